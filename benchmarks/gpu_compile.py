"""The deviceless GPU compile at the path the README's test command names:

    python benchmarks/gpu_compile.py --install   # the compile plugin, into .gpu-compile/

A launcher kept at this path so that the command stays as it is: it runs
`benchmarks.gpu.compile` as `python -m benchmarks.gpu.compile` would from the checkout (any
of its options work here too). As a file entry point it is one of the two places (with
gpu_run.py) that put the checkout on the import path, in place of this folder.
"""

import runpy
import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)
runpy.run_module("benchmarks.gpu.compile", run_name="__main__")  # argv[0] stays this file
