"""`--track tensorboard`: TensorBoard event files in `RUN/tensorboard/`.

Written with TensorBoard's own record framing and summary protos (no TensorFlow), in the
calling thread, so that a failed write (a full disk) is an error there, not a traceback from
a writer thread: each
generation's statistics as scalars `<algorithm>/<name>` at step = generation (0: the
initial population) and the best expression as text `<algorithm>/best_expression`; at the
end, the confirmed candidates' validation curves at step = epoch and the final numbers
(`jaxgp.track.ending`); the run's settings as text `config` when tracking starts. A resumed
run adds an event file to the same directory, which TensorBoard reads as one run.
`tensorboard --logdir runs/` shows every tracked run side by side.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import time
from pathlib import Path
from typing import Any, BinaryIO

from jaxgp.track.ending import RunEnd
from jaxgp.track.stats import GenerationStats
from jaxgp.track.trackers import Context

DIRECTORY = "tensorboard"
_files = itertools.count()


class EventFile:
    """A new event file in `logdir`, written synchronously (TensorBoard reads every
    `*tfevents*` file of a directory as one run, in name order)."""

    def __init__(self, logdir: Path) -> None:
        from tensorboard.compat.proto import event_pb2
        from tensorboard.summary.writer.record_writer import RecordWriter

        logdir.mkdir(parents=True, exist_ok=True)
        while True:  # a name no file has: `x` never replaces an earlier session's file
            name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
            try:
                path = logdir / f"{name}{os.getpid()}.{next(_files)}"
                self.file: BinaryIO = open(path, "xb")  # noqa: SIM115  (open until close())
                break
            except FileExistsError:
                continue
        self.records = RecordWriter(self.file)
        self.add(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))

    def add(self, event: Any) -> None:
        self.records.write(event.SerializeToString())

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.file.close()


class TensorBoardTracker:
    name = "tensorboard"

    def __init__(self) -> None:
        self.writer: Any = None

    def start(self, context: Context) -> dict[str, Any]:
        self.writer = EventFile(Path(context.run_dir) / DIRECTORY)
        if not context.previous:
            settings = json.dumps(context.settings.to_dict(), indent=2)
            self._text("config", f"```\n{settings}\n```", 0)
            self.writer.flush()
        return {"logdir": DIRECTORY}

    def _event(self, step: int, summary: Any) -> None:
        from tensorboard.compat.proto import event_pb2

        self.writer.add(event_pb2.Event(wall_time=time.time(), step=step, summary=summary))

    def _scalar(self, tag: str, value: float, step: int) -> None:
        from tensorboard.plugins.scalar.summary_v2 import scalar_pb

        self._event(step, scalar_pb(tag, value))

    def _text(self, tag: str, text: str, step: int) -> None:
        from tensorboard.plugins.text.summary_v2 import text_pb

        self._event(step, text_pb(tag, text))

    def generation(self, stats: GenerationStats) -> None:
        for tag, value in stats.scalars().items():
            self._scalar(tag, value, stats.step)
        self._text(f"{stats.algorithm}/best_expression", stats.best_expression, stats.step)
        self.writer.flush()

    def finish(self, end: RunEnd) -> None:
        for tag, values in end.curves.items():
            for epoch, value in enumerate(values, start=1):
                self._scalar(tag, value, epoch)
        for tag, value in end.scalars.items():
            self._scalar(tag, value, 0)
        for tag, text in end.texts.items():
            self._text(tag, text, 0)
        self.writer.flush()

    def close(self, status: str) -> None:
        if self.writer is not None:
            self.writer.close()
