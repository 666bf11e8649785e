"""benchmarks/micro/op_profile.py's reading of profiles: own times of nested events, and what each
XLA instruction of a real training step and each TensorFlow op is counted as."""

import collections

import pytest

from benchmarks.micro import op_profile
from jaxgp.data import load_dataset
from jaxgp.train import DeviceDataset, TrainConfig
from jaxgp.train.capacity import abstract_epoch_arguments
from jaxgp.train.step import build_functions


def test_an_events_own_time_excludes_the_events_nested_in_it_on_its_thread():
    spans = [(0, 10, "outer"), (2, 5, "a"), (3, 4, "a.inner"), (6, 8, "b"), (12, 15, "after")]
    own = dict(op_profile.own_spans(spans))
    assert own == {"outer": 5, "a": 2, "a.inner": 1, "b": 2, "after": 3}
    assert sum(own.values()) == 10 + 3


@pytest.mark.parametrize("conv", ["canonical", "xla"])
def test_every_convolution_of_a_step_is_counted_as_forward_input_or_filter_gradient(conv):
    """small_cnn has three convolutions; the first one's input gradient (the images') is never
    computed, so a step runs 3 forward, 2 input-gradient and 3 filter-gradient convolutions."""
    data = DeviceDataset.from_dataset(
        load_dataset("synthetic:16x16x3:10", seed=0, num_train=64, num_test=16)
    )
    config = TrainConfig(
        model="small_cnn", batch_size=16, candidates_per_batch=1, epoch_loop="host", conv=conv
    )
    functions = build_functions(data.num_classes, data.image_shape, config)
    arguments = abstract_epoch_arguments(functions, data, config, 1)
    text = functions.step_program.lower(*arguments).compile().as_text()
    instructions = op_profile.hlo_instructions(text)
    convolutions = collections.Counter(
        op_profile.xla_category(record, config.batch_size)
        for record in instructions.values()
        if record["op"] == "convolution"
    )
    assert convolutions == {
        "convolution forward": 3,
        "convolution input gradient": 2,
        "convolution filter gradient": 3,
    }
    every = collections.Counter(
        op_profile.xla_category(record, config.batch_size) for record in instructions.values()
    )
    for part in ("batch norm", "pooling", "dense, softmax, loss", "optimiser"):
        assert any(name.startswith(part) for name in every), part


@pytest.mark.parametrize(
    ("event", "category"),
    [
        ("small_cnn_1/conv2d_1/convolution:_MklNativeConv2D", "convolution forward"),
        (
            "gradient_tape/small_cnn_1/conv2d_1/convolution/Conv2DBackpropFilter:_MklNativeConv2D"
            "BackpropFilter",
            "convolution filter gradient",
        ),
        (
            "gradient_tape/small_cnn_1/conv2d_2/convolution/Conv2DBackpropInput:_MklNativeConv2D"
            "BackpropInput",
            "convolution input gradient",
        ),
        ("small_cnn_1/batch_normalization_1/moments/SquaredDifference:SquaredDifference",
         "batch norm"),
        ("gradient_tape/small_cnn_1/max_pooling2d_1/MaxPool2d/MaxPoolGrad:_MklNativeMaxPoolGrad",
         "pooling"),
        ("gradient_tape/small_cnn_1/activation_1/ReluGrad:ReluGrad",
         "activations (ReLU) and their gradients"),
        ("adam/Sqrt:Sqrt", "optimiser (and jaxgp's finite checks)"),
        ("small_cnn_1/dense_1/MatMul:_MklMatMul", "dense, softmax, loss"),
    ],
)  # fmt: skip
def test_a_tensorflow_op_is_counted_by_its_type_and_layer(event, category):
    assert op_profile.tf_category(event) == category


def test_the_table_has_a_row_per_category_either_side_measured_and_the_wall_steps():
    side = {"step_ms": 10.0, "ms_per_step": {"batch norm": 2.0, "pooling": 1.0}}
    report = {
        "model": "small_cnn", "data": "synthetic:cifar10", "image_shape": [32, 32, 3],
        "input_size": None, "batch_size": 64, "steps": 5, "device": "cpu", "date": "d",
        "commit": "c", "jaxgp": side, "keras": side | {"ms_per_step": {"pooling": 4.0}},
    }  # fmt: skip
    lines = op_profile.markdown(report).splitlines()
    assert "| batch norm | 2.00 | 0.00 |" in lines
    assert "| pooling | 1.00 | 4.00 |" in lines
    assert "| sum of the above | 3.00 | 4.00 |" in lines
    assert "| step, unprofiled wall ms | 10.00 | 10.00 |" in lines
