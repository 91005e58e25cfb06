"""A batch export: several sessions into one folder, in parallel worker processes, each one's
outcome said as it ends and the worst failure's exit code returned."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from loosen.cli.common import bars_off, naming, worst_exit_code
from loosen.cli.export_job import export_one
from loosen.errors import BadInputError, ExportError

if TYPE_CHECKING:
    from loosen.cli.export_job import ExportJob
    from loosen.output.batch import Outcome

__all__ = ["batch_jobs", "export_in_worker", "run_batch"]


def batch_jobs(
    job: ExportJob, scripts: list[str], folder: Path
) -> tuple[list[ExportJob], list[Outcome[ExportJob]]]:
    """One job per script, writing ``folder/STEM.EXT`` (or ``folder/STEM/`` with --split); and
    the scripts that cannot even be found, each as a failed outcome (the others go on)."""
    from loosen.errors import LoosenError
    from loosen.output.batch import Outcome
    from loosen.script.loading import resolve_script

    if job.export.timeline is not None:
        raise BadInputError("--timeline names one file: export one script at a time")
    from loosen.output.writable import check_writable

    if folder.exists() and not folder.is_dir():
        raise BadInputError(f"{folder}: is a file; name a folder for several sessions")
    # every session's file goes into the folder; a missing folder is made in its parent
    check_writable(folder / f"session{job.extension}" if folder.is_dir() else folder, what="folder")
    stems: dict[str, str] = {}
    refused: list[Outcome[ExportJob]] = []
    for script in scripts:
        try:
            stem = resolve_script(script).stem
        except LoosenError as error:
            refused.append(Outcome(replace(job, script=script), error.exit_code, str(error)))
            continue
        if stem in stems:
            raise BadInputError(
                f"{stems[stem]} and {script} would both be written as {stem}; export them apart"
            )
        stems[stem] = script
    if stems:
        try:
            folder.mkdir(exist_ok=True)
        except OSError as error:
            raise ExportError(f"{folder}: cannot make the folder: {error.strerror}") from None
    split = job.export.split
    batch = [
        replace(job, script=script, output=folder / (stem if split else stem + job.extension))
        for stem, script in stems.items()
    ]
    return batch, refused


def run_batch(batch: list[ExportJob], refused: list[Outcome[ExportJob]], workers: int) -> int:
    """Export every job, ``workers`` at once, reporting each session as it ends (and the
    ``refused`` ones first); the exit code of the worst failure (0: none)."""
    from loosen.output.batch import run_jobs

    total = len(batch) + len(refused)
    status = _BatchStatus(total, live=sys.stderr.isatty())

    def report(outcome: Outcome[ExportJob]) -> None:
        if outcome.exit_code:
            status.done(f"Error: {naming(outcome.item.script, outcome.message)}")
        else:
            status.done(outcome.message)

    for outcome in refused:
        report(outcome)
    outcomes = refused + run_jobs(export_in_worker, batch, workers=workers, on_done=report)
    status.close()
    codes = [o.exit_code for o in outcomes]
    done = codes.count(0)
    typer.echo(f"Exported {done} of {total} sessions", err=True)
    return worst_exit_code(codes)


class _BatchStatus:
    """A batch's progress on stderr: what each session ended in, as it ends (``Wrote ...`` or
    ``Error: ...``), and on a terminal a status line below, redrawn in place (never piped)."""

    def __init__(self, total: int, *, live: bool) -> None:
        self.total = total
        self.finished = 0
        self.live = live
        self._draw()

    def done(self, text: str) -> None:
        self.finished += 1
        self._write(("\r\x1b[K" if self.live else "") + text + "\n")
        self._draw()

    def close(self) -> None:
        if self.live:
            self._write("\r\x1b[K")

    def _draw(self) -> None:
        if self.live and self.finished < self.total:
            self._write(f"\r\x1b[KExporting: {self.finished} of {self.total} sessions done")

    @staticmethod
    def _write(text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()


def export_in_worker(job: ExportJob) -> str:
    """In a worker process: export ``job``; what it wrote, as the batch's report of it."""
    bars_off()  # several sessions' bars on one terminal would garble it
    said: list[str] = []
    export_one(job, say=said.append)
    return "\n".join(said)
