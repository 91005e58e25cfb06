"""The tight floors of issue 18, measured against `loosen` in interleaved pairs.

A floor is the least a job can cost on this machine, done by a program that does nothing else:

- the speech floor: espeak-ng's own command speaking the session's distinct lines, half of them
  in each of two processes at once (both cores busy), to WAV files, at the default 150 wpm;
- the write floor: a Python process writing the session's frames as int16 blocks of one second
  to a 16-bit WAV and fsync'ing it, as an export's file ends on the disk.

Each target is a pair of whole processes, A (loosen) then B (its floor), repeated (A B A B ...):
the ratio is taken per pair, so that a machine growing busier or quieter during the run moves
both sides of a ratio alike; a row gives the median ratio and its range, and is printed as soon
as its pairs are measured (a failure later in the run loses nothing). Nothing here waits a fixed
time: every step waits for a process to end.
"""

from __future__ import annotations

import dataclasses
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

SPEECH_RATE_WPM = 150  # loosen's default rate, which the bundled sessions use

WRITE_INT16_FSYNC_PY = """\
import os
import sys
import numpy as np
import soundfile as sf
path, total_frames = sys.argv[1], int(sys.argv[2])
block = np.zeros((48000, 2), dtype=np.int16)
with open(path, "wb") as raw:
    wav = {"samplerate": 48000, "channels": 2, "subtype": "PCM_16", "format": "WAV"}
    with sf.SoundFile(raw, "w", **wav) as out:
        for start in range(0, total_frames, 48000):
            out.write(block[: total_frames - start])
    raw.flush()
    os.fsync(raw.fileno())
"""


@dataclasses.dataclass(frozen=True)
class PairRow:
    """One target measured in pairs: A's and B's seconds per pair, and their ratios."""

    name: str
    a_s: tuple[float, ...]
    b_s: tuple[float, ...]
    limit: float  # the ratio's goal: at most this

    @property
    def ratios(self) -> list[float]:
        return [a / b for a, b in zip(self.a_s, self.b_s, strict=True)]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def verdict(self) -> str:
        return "PASS" if self.ratio <= self.limit else "MISS"

    def line(self) -> str:
        ratios = self.ratios
        return (
            f"{self.name:<62} A {statistics.median(self.a_s):6.2f} s  "
            f"B {statistics.median(self.b_s):6.2f} s  {self.ratio:5.2f} x "
            f"({min(ratios):.2f}-{max(ratios):.2f})  goal <= {self.limit} x  {self.verdict}"
        )


Step = Callable[[int], float]  # run number -> the wall seconds of one whole job


def run_s(command: Sequence[str], env: Mapping[str, str]) -> float:
    """Wall seconds of one process; a failure raises with its output."""
    began_s = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed_s = time.perf_counter() - began_s
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:6])}...: exit {done.returncode}\n{done.stderr}")
    return elapsed_s


def speech_floor_s(texts: Sequence[str], folder: Path) -> float:
    """Wall seconds of espeak-ng speaking ``texts``, every other one in each of two processes
    started together (each line a paragraph of its own), to WAV files in ``folder``."""
    commands = []
    for half in (0, 1):
        lines = folder / f"half-{half}.txt"
        lines.write_text("\n\n".join(texts[half::2]) + "\n", encoding="utf-8")
        out = folder / f"half-{half}.wav"
        commands.append(["espeak-ng", "-s", str(SPEECH_RATE_WPM), "-w", str(out), "-f", str(lines)])
    began_s = time.perf_counter()
    processes = [
        subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for c in commands
    ]
    for process in processes:
        _, err = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"espeak-ng: exit {process.returncode}: {err.decode()[:200]}")
    return time.perf_counter() - began_s


def write_floor_s(out: Path, total_frames: int, env: Mapping[str, str]) -> float:
    """Wall seconds of a process writing ``total_frames`` stereo int16 frames, fsync'd."""
    seconds = run_s([sys.executable, "-c", WRITE_INT16_FSYNC_PY, str(out), str(total_frames)], env)
    out.unlink()
    return seconds


def measure_pairs(
    name: str, a: Step, b: Step, pairs: int, limit: float, say: Callable[[str], None]
) -> PairRow:
    """Run A then B ``pairs`` times; print the row to stdout at once."""
    a_s: list[float] = []
    b_s: list[float] = []
    for run in range(pairs):
        a_s.append(a(run))
        b_s.append(b(run))
        say(f"{name} ({run + 1}/{pairs}): A {a_s[-1]:.2f} s, B {b_s[-1]:.2f} s")
    row = PairRow(name, tuple(a_s), tuple(b_s), limit)
    print(row.line(), flush=True)
    return row
