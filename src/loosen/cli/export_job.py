"""One export as the `export` command runs it: what it needs (`ExportJob`, picklable for a
batch's worker processes) and running it (`export_one`), saying what was written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from loosen.cli.common import Bars, clock, listener_for

if TYPE_CHECKING:
    from loosen.pipeline import ExportOptions, SessionOptions

__all__ = ["ExportJob", "export_one"]


@dataclass(frozen=True)
class ExportJob:
    """Everything one export needs; picklable, so a worker process can run it."""

    script: str
    output: Path | None
    options: SessionOptions
    export: ExportOptions
    verbose: bool = False

    @property
    def extension(self) -> str:
        """Of the file in a batch, of the parts with a split: ``".wav"``."""
        return "." + self.export.split_format.lower().lstrip(".")


def export_one(job: ExportJob, say: Callable[[str], None] | None = None) -> None:
    """Export one session (`loosen.pipeline.export_session`) and say what was written
    (``say``: default, a line on stderr)."""
    from loosen.pipeline import export_session

    with Bars() as bars:
        result = export_session(
            job.script, job.output, job.options, job.export,
            listener=listener_for(bars, verbose=job.verbose),
        )  # fmt: skip
    say = say or _to_stderr
    out = result.output
    what = f"{len(result.files)} files in {out}" if job.export.split else str(out)
    channels = f"{result.channels} ch"
    if result.mono_from_same:
        channels = "mono: both channels are the same"
    say(
        f"Wrote {what} ({result.format_name}, {clock(result.duration_s)}, "
        f"{result.sample_rate} Hz, {channels}, {result.chapters} chapters)"
    )
    for extra in result.sidecars:
        say(f"Wrote {extra}")
    if job.verbose:  # last, after what was written, as `open_rendering` says it
        from loosen.session.opening import synthesized_detail

        _to_stderr(synthesized_detail(result.lines_synthesized))


def _to_stderr(line: str) -> None:
    typer.echo(line, err=True)
