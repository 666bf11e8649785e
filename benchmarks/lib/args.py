"""The options every measuring script shares, as one argparse parent, and the parser built on it.

    parser = script_parser(__doc__)   # --smoke and --json, the docstring's first line as help
    add_training_shape(parser, train_images=1024)  # what one candidate trains on
    parser.add_argument(...)          # the script's own options

`--smoke` runs the script at tiny sizes on a CPU (what the tests run); `--json FILE` writes its
full report there (`-`: to stdout). The GPU run (`--out` directory), the GPU compile and the
Keras-only scripts (which run in another Python) have options of their own.
"""

from __future__ import annotations

import argparse

from jaxgp.models.registry import MODELS

SHARED = argparse.ArgumentParser(add_help=False)
SHARED.add_argument("--smoke", action="store_true", help="tiny sizes on a CPU, what the tests run")
SHARED.add_argument(
    "--json", dest="json_path", metavar="FILE", help="write the full report here ('-': stdout)"
)


def script_parser(doc: str) -> argparse.ArgumentParser:
    """A script's parser: the shared options, described by its docstring's first line."""
    return argparse.ArgumentParser(description=doc.splitlines()[0], parents=[SHARED])


def add_training_shape(parser: argparse.ArgumentParser, *, train_images: int | None) -> None:
    """The options that say what a measured candidate trains on: --model, --data,
    --batch-size, --input-size, and --train-images (its default `train_images`; left out
    where None)."""
    parser.add_argument("--model", choices=sorted(MODELS), default="small_cnn")
    parser.add_argument("--data", default="synthetic:cifar10", help="a jaxgp dataset name")
    if train_images is not None:
        parser.add_argument("--train-images", type=int, default=train_images)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--input-size", type=int, help="inception_v3: the side its images are resized to"
    )
