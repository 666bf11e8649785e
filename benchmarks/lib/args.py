"""The options every measuring script shares, as one argparse parent, and the parser built on it.

    parser = script_parser(__doc__)   # --smoke and --json, the docstring's first line as help
    parser.add_argument(...)          # the script's own options

`--smoke` runs the script at tiny sizes on a CPU (what the tests run); `--json FILE` writes its
full report there (`-`: to stdout). The GPU run (`--out` directory), the GPU compile and the
Keras-only scripts (which run in another Python) have options of their own.
"""

from __future__ import annotations

import argparse

SHARED = argparse.ArgumentParser(add_help=False)
SHARED.add_argument("--smoke", action="store_true", help="tiny sizes on a CPU, what the tests run")
SHARED.add_argument(
    "--json", dest="json_path", metavar="FILE", help="write the full report here ('-': stdout)"
)


def script_parser(doc: str) -> argparse.ArgumentParser:
    """A script's parser: the shared options, described by its docstring's first line."""
    return argparse.ArgumentParser(description=doc.splitlines()[0], parents=[SHARED])
