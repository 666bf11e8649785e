"""Stage two of the mutation run: every mutant that survived `mutmut run` run again against
its module's own slower tests, the ones mutmut's selection leaves out.

mutmut's selection (`[tool.mutmut]` in pyproject.toml) holds the fast unit tests, so that
each of its 6,600 mutants costs seconds; the whole runs with the fake trainer, the
reliability runs, the compiled interpreters' and the trainer's tests would make it hours
more. Most survivors of that selection live in code those tests check, so this stage runs
only the survivors against them (`TESTS_BY_MODULE`, fastest first, stopping at the first
failure). A mutant that survives both is one no test catches.

    python tests/mutation_stage_two.py                 # every module with survivors
    python tests/mutation_stage_two.py jaxgp/search/summary.py ...
    python tests/mutation_stage_two.py --table         # counts so far, per module
    python tests/mutation_stage_two.py --again MODULE  # its survivors again, after new tests

It reads mutmut's verdicts (`mutants/**/*.meta`) and runs from a copy of mutmut's mutated
package and of tests/ (`mutants/stage-two.PID/`, removed at the end), selecting a mutant by
`MUTANT_UNDER_TEST` as mutmut does. Verdicts are appended to `mutants/stage-two.jsonl`, one
line per mutant, so an interrupted stage resumes where it stopped; a module whose tests fail
without a mutant is skipped with a message. Run it with the environment of `mutmut run`
(tests/README.md).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
RESULTS = MUTANTS / "stage-two.jsonl"
COPY = MUTANTS / f"stage-two.{os.getpid()}"
"""This process's copy (one per process: two may run at once, on other modules)."""
SURVIVED = 0
"""mutmut's exit code of a surviving mutant (its tests passed)."""

RELIABILITY = [
    f"tests/reliability/{name}.py"
    for name in (
        "test_failed_start",
        "test_finished_run",
        "test_full_disk",
        "test_unwritable",
        "test_sealed_settings",
        "test_bad_values",
        "test_arguments",
        "test_command_line",
    )
]
WHOLE_RUNS = ["tests/search/test_summary.py", "tests/search/test_session.py"]
EXPR = [f"tests/expr/test_{name}.py" for name in ("primitives", "language", "lower", "validity")]
RUNDIR, CONFIRM = "tests/search/test_rundir.py", "tests/search/test_confirm.py"
TESTS_BY_MODULE = {
    "jaxgp/search/summary.py": WHOLE_RUNS,
    "jaxgp/search/session.py": [*WHOLE_RUNS, "tests/search/test_kill_resume.py", *RELIABILITY],
    "jaxgp/search/claim.py": RELIABILITY,
    "jaxgp/search/run_lock.py": ["tests/reliability/test_one_writer.py", *RELIABILITY],
    "jaxgp/search/records.py": [RUNDIR, *WHOLE_RUNS, "tests/report", *RELIABILITY],
    "jaxgp/search/rundir.py": [RUNDIR, *WHOLE_RUNS, "tests/report", *RELIABILITY],
    "jaxgp/search/run_settings.py": [
        "tests/search/test_settings.py",
        *WHOLE_RUNS,
        *RELIABILITY,
        "tests/cli/test_config_file.py",
    ],
    "jaxgp/search/confirmation.py": [
        CONFIRM,
        *WHOLE_RUNS,
        "tests/report",
        "tests/cli/test_verify_cli.py",
    ],
    "jaxgp/search/confirm.py": [CONFIRM, *WHOLE_RUNS, "tests/report"],
    "jaxgp/search/population.py": [*WHOLE_RUNS, "tests/expr/test_validity.py"],
    "jaxgp/fitness.py": ["tests/test_fitness.py", *WHOLE_RUNS, "tests/report"],
    "jaxgp/expr/primitives.py": ["tests/expr/test_primitives.py", "tests/test_export_formula.py"],
    "jaxgp/expr/language.py": ["tests/expr/test_language.py"],
    "jaxgp/expr/learnability.py": ["tests/expr/test_validity.py"],
    "jaxgp/expr/validity.py": ["tests/expr/test_validity.py", "tests/expr/test_language.py"],
    "jaxgp/expr/program.py": ["tests/expr/test_language.py", "tests/expr/test_lower.py"],
    "jaxgp/expr/lower.py": ["tests/expr/test_lower.py"],
    "jaxgp/expr/interpreter.py": ["tests/expr/test_lower.py", "tests/expr/test_language.py"],
    "jaxgp/train/loop.py": [
        "tests/train/test_loop.py",
        "tests/train/test_step_progress.py",
        "tests/train/test_train.py",
    ],
}
"""A module's own tests outside mutmut's selection (with its unit tests of the selection
first, where `--again` judges mutants after new tests there); other expr/ modules: `EXPR`;
others: the whole runs and the report."""


def tests_for(module: str) -> list[str]:
    if module in TESTS_BY_MODULE:
        return TESTS_BY_MODULE[module]
    if module.startswith("jaxgp/expr/"):
        return EXPR
    return [*WHOLE_RUNS, "tests/report"]


@functools.cache
def meta(module: str) -> dict:
    """mutmut's record of `module` (a path under jaxgp/): its verdicts and function hashes."""
    return json.loads((MUTANTS / f"{module}.meta").read_text())


def survivors(module: str) -> list[str]:
    """The mutants of `module` that survived mutmut's selection."""
    verdicts = meta(module)["exit_code_by_key"]
    return sorted(name for name, code in verdicts.items() if code == SURVIVED)


def source_hash(module: str, mutant: str) -> str | None:
    """mutmut's hash of the source of the function `mutant` changes: a verdict judged on
    another source no longer counts."""
    function = mutant.rsplit(".", 1)[-1].rsplit("__mutmut_", 1)[0]
    return meta(module)["hash_by_function_name"].get(function)


def modules_with_survivors() -> list[str]:
    metas = sorted(MUTANTS.glob("jaxgp/**/*.py.meta"))
    modules = [str(meta.relative_to(MUTANTS))[: -len(".meta")] for meta in metas]
    return [module for module in modules if survivors(module)]


def prepare_copy() -> None:
    """mutmut's mutated package beside today's tests, so new tests count in this stage."""
    shutil.rmtree(COPY, ignore_errors=True)
    COPY.mkdir(parents=True)
    shutil.copytree(MUTANTS / "jaxgp", COPY / "jaxgp")
    shutil.copytree(ROOT / "tests", COPY / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", COPY / "pyproject.toml")


def run_tests(tests: list[str], mutant: str, timeout: float) -> tuple[str, float]:
    """`killed`, `survived` or `timeout`, and the seconds it took (`tests` may hold pytest
    options)."""
    env = {**os.environ, "MUTANT_UNDER_TEST": mutant, "PYTHONPATH": str(COPY)}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    start = time.monotonic()
    try:
        done = subprocess.run(command, cwd=COPY, env=env, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - start
    return ("killed" if done.returncode else "survived"), time.monotonic() - start


def decided() -> dict[str, dict]:
    """The last verdict of each mutant whose function's source is the one it judged."""
    if not RESULTS.exists():
        return {}
    rows = {row["mutant"]: row for row in map(json.loads, RESULTS.read_text().splitlines())}
    return {m: row for m, row in rows.items() if row["hash"] == source_hash(row["module"], m)}


def table() -> None:
    verdicts = decided()
    print("| module | survivors of mutmut | killed here | survived both | timed out | not run |")
    print("|---|---:|---:|---:|---:|---:|")
    for module in modules_with_survivors():
        mine = survivors(module)
        c = Counter(verdicts[m]["verdict"] for m in mine if m in verdicts)
        cells = (len(mine), c["killed"], c["survived"], c["timeout"], len(mine) - c.total())
        print(f"| `{module}` | " + " | ".join(map(str, cells)) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="paths under jaxgp/ (default: all)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant")
    parser.add_argument("--table", action="store_true", help="print the counts and stop")
    parser.add_argument(
        "--again", action="store_true",
        help="judge again the mutants an earlier stage two let survive (after new tests)",
    )  # fmt: skip
    parser.add_argument(
        "--deselect", action="append", default=[], metavar="NODEID",
        help="leave out a test (one that checks a source newer than the mutants)",
    )  # fmt: skip
    args = parser.parse_args()
    if not MUTANTS.is_dir():
        sys.exit("no mutants/ directory: run `mutmut run` first (tests/README.md)")
    if args.table:
        table()
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` removes the copy
    prepare_copy()
    try:
        judge(args.modules or modules_with_survivors(), args.deselect, args.timeout, args.again)
    finally:
        shutil.rmtree(COPY, ignore_errors=True)


def judge(modules: list[str], deselect: list[str], timeout: float, again: bool) -> None:
    """Append a verdict for each survivor of `modules` not judged yet (`again`: or judged to
    survive); the last line of a mutant is its verdict."""
    done = {m: row for m, row in decided().items() if not (again and row["verdict"] == "survived")}
    with RESULTS.open("a", encoding="utf-8") as out:
        for module in modules:
            pending = [m for m in survivors(module) if m not in done]
            if not pending:
                continue
            tests = [*tests_for(module), *(f"--deselect={node}" for node in deselect)]
            verdict, _ = run_tests(tests, "", timeout)
            if verdict != "survived":
                print(f"{module}: its tests do not pass without a mutant ({verdict}); skipped")
                continue
            for number, mutant in enumerate(pending, start=1):
                verdict, seconds = run_tests(tests, mutant, timeout)
                row = {
                    "mutant": mutant,
                    "module": module,
                    "verdict": verdict,
                    "seconds": round(seconds, 1),
                    "hash": source_hash(module, mutant),
                }
                out.write(json.dumps(row) + "\n")
                out.flush()
                print(f"{module} {number}/{len(pending)} {verdict:8} {mutant}", flush=True)


if __name__ == "__main__":
    main()
