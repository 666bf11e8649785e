"""Reports of a run directory: `report.md` with Markdown tables and PNG figures.

`write_report(run_dir, out=None)` works on a finished run and on one still in progress (what
the ledger holds so far). `load_run` reads a run directory into a `RunData`, from which the
tables (`jaxgp.report.tables`) and figures (`jaxgp.report.figures`) are built.
"""

from jaxgp.report.document import write_report
from jaxgp.report.run_data import RunData, load_run

__all__ = ["RunData", "load_run", "write_report"]
