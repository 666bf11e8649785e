"""Image classifiers for candidate training: InceptionV3 (Keras parity) and a small CNN.

Every model maps a float batch [B, H, W, C] in [-1, 1] to float32 softmax probabilities
[B, num_classes] and is called as `model.apply(variables, x, train=..., rngs={'dropout': key},
mutable=['batch_stats'])` (mutable only when training).
"""

from jaxgp.models.head import NGLHead
from jaxgp.models.inception_v3 import InceptionV3Classifier, InceptionV3Trunk
from jaxgp.models.registry import MODELS, build_model, init_variables, variable_shapes
from jaxgp.models.small_cnn import SmallCNN
from jaxgp.models.summary import LayerSummary, ModelSummary, summarize

__all__ = [
    "MODELS",
    "InceptionV3Classifier",
    "InceptionV3Trunk",
    "LayerSummary",
    "ModelSummary",
    "NGLHead",
    "SmallCNN",
    "build_model",
    "init_variables",
    "summarize",
    "variable_shapes",
]
