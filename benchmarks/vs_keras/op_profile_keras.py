"""The Keras reference's training step under TensorFlow's profiler (for `micro/op_profile.py`).

Runs in the reference's own Python (TensorFlow and Keras, no jax, no jaxgp): builds the
reference model (`reference_keras.build_model`), compiles it with Adam(1e-3) and categorical
cross-entropy as `model.compile` does by default, warms up with `train_on_batch` on one fixed
random batch, times `--steps` unprofiled steps, then traces `--steps` more with
`tf.profiler.experimental` into `--logdir`. Prints one JSON line: the step's milliseconds,
Keras's `jit_compile` decision and TensorFlow's thread settings.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["small", "inception_v3"], default="small")
    parser.add_argument("--shape", required=True, help="HxWxC of the images, e.g. 32x32x3")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--input-size", type=int)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--logdir", required=True)
    args = parser.parse_args()
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")

    import keras
    import numpy as np
    import tensorflow as tf
    from reference_keras import build_model

    shape = tuple(int(n) for n in args.shape.split("x"))
    model = build_model(keras, args.model, shape, args.classes, args.input_size)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.random((args.batch_size, *shape), dtype=np.float32)
    y = keras.utils.to_categorical(rng.integers(0, args.classes, args.batch_size), args.classes)
    for _ in range(3):
        model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(args.steps):
        model.train_on_batch(x, y)
    unprofiled = (time.perf_counter() - start) / args.steps
    tf.profiler.experimental.start(args.logdir)
    for _ in range(args.steps):
        model.train_on_batch(x, y)
    tf.profiler.experimental.stop()
    print(json.dumps({
        "step_ms": unprofiled * 1e3,
        "jit_compile": bool(model.jit_compile),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
