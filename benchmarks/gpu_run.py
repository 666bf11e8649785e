"""The one-command GPU measurement that the project's standing order names: on a lent GPU,

    python3 benchmarks/gpu_run.py                  # results in $OUT
    python3 benchmarks/gpu_run.py --smoke --out D  # the same parts at toy sizes, on a CPU (CI)

A launcher kept at this path so that the command stays as it is: it runs `benchmarks.gpu.run`
as `python -m benchmarks.gpu.run` would from the checkout. As a file entry point it is one
of the two places (with gpu_compile.py) that put the checkout on the import path, in place
of this folder, so that it works from any directory, jaxgp installed or not.
"""

import runpy
import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)
runpy.run_module("benchmarks.gpu.run", run_name="__main__")  # argv[0] stays this file
