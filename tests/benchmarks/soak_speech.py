"""Soak test of cold speech: many cold exports of a bundled session, each with a cache of its
own, two at a time and staggered (the second starts when the first is half done, and each
later one as soon as one ends, so the two are always at different stages), then every file
compared with the first and every spoken line's length with the first export's. A clip spoken
at a lost rate, a lost or doubled text, or a clip that depends on what else was spoken (or on
how busy the machine was) would show as a file or a line that differs.

    PYTHONPATH=src python tests/benchmarks/soak_speech.py [--runs 50] [--session back-loosening]

Not part of the test run (it takes minutes). Prints one line per export and a summary; exits 1
if any export failed or differs. Nothing waits a fixed time: the stagger is half of the first
export's own time, measured alone.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Job:
    number: int
    out: Path
    timeline: Path
    errors: Path
    process: subprocess.Popen[bytes]
    started_s: float


def start(number: int, session: str, root: Path) -> Job:
    out, timeline = root / f"{number:03d}.wav", root / f"{number:03d}.json"
    errors = root / f"{number:03d}.err"  # a file: a pipe nobody reads could fill and block it
    with errors.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "loosen", "export", session, "-o", str(out),
             "--timeline", str(timeline)],
            stdout=subprocess.DEVNULL, stderr=stderr,
            env={**os.environ, "LOOSEN_CACHE_DIR": str(root / f"cache-{number}")},
        )  # fmt: skip
    return Job(number, out, timeline, errors, process, time.monotonic())


def speech_lengths(timeline: Path) -> list[tuple[str, float]]:
    """Each spoken line of an export's timeline and its length in seconds."""
    events = json.loads(timeline.read_text(encoding="utf-8"))["events"]
    return [
        (e["text"], round(e["end_s"] - e["start_s"], 6)) for e in events if e["kind"] == "speech"
    ]


class Soak:
    def __init__(self, session: str, root: Path) -> None:
        self.session, self.root = session, root
        self.digests: dict[int, str] = {}
        self.lengths: list[tuple[str, float]] | None = None  # the first export's
        self.failures = 0
        self.differing_lines = 0

    def finish(self, job: Job, company: str) -> None:
        job.process.wait()
        took_s = time.monotonic() - job.started_s
        if job.process.returncode != 0:
            self.failures += 1
            err = job.errors.read_text(errors="replace").strip()[:200]
            print(f"run {job.number}: exit {job.process.returncode}: {err}")
            return
        digest = hashlib.sha256(job.out.read_bytes()).hexdigest()
        self.digests[job.number] = digest
        lengths = speech_lengths(job.timeline)
        if self.lengths is None:
            self.lengths = lengths
        differing = sum(a != b for a, b in zip(lengths, self.lengths, strict=False))
        differing += abs(len(lengths) - len(self.lengths))
        self.differing_lines += differing
        job.out.unlink()
        note = f", {differing} line(s) of another length" if differing else ""
        print(f"run {job.number}: {digest[:12]} ({company}, {took_s:.1f} s{note})", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--session", default="back-loosening")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="loosen-soak-") as folder:
        soak = Soak(options.session, Path(folder))
        first = start(0, options.session, soak.root)
        soak.finish(first, "alone")
        alone_s = time.monotonic() - first.started_s
        running: list[Job] = []
        number = 1
        if number < options.runs:
            running.append(start(number, options.session, soak.root))
            number += 1
            # the stagger: the third starts when the second is about half done (or done)
            with contextlib.suppress(subprocess.TimeoutExpired):
                running[0].process.wait(timeout=alone_s / 2)
        while running:
            if number < options.runs and len(running) < 2:
                running.append(start(number, options.session, soak.root))
                number += 1
                continue
            done = _first_done(running)
            running.remove(done)
            soak.finish(done, "two at a time")
    distinct = set(soak.digests.values())
    print(
        f"{len(soak.digests)} exports, {soak.failures} failed, {len(distinct)} distinct file(s), "
        f"{soak.differing_lines} spoken line(s) of another length than in the first"
    )
    return 0 if soak.failures == 0 and len(distinct) <= 1 and not soak.differing_lines else 1


def _first_done(running: list[Job]) -> Job:
    """The first of ``running`` to end (waiting on the processes, not on a clock)."""
    for job in running:
        if job.process.poll() is not None:
            return job
    pids = {job.process.pid: job for job in running}
    pid, status = os.wait()
    job = pids.get(pid)
    if job is None:  # not one of ours (cannot happen: this process starts no others)
        return _first_done(running)
    job.process.returncode = os.waitstatus_to_exitcode(status)
    return job


if __name__ == "__main__":
    sys.exit(main())
