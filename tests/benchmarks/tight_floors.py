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
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import long_scripts
import soundfile

if TYPE_CHECKING:
    from bench_speed import Bench

SPEECH_RATE_WPM = 150  # loosen's default rate, which the bundled sessions use
RATE_HZ = 48_000
LOOSEN = (sys.executable, "-m", "loosen")

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


def measure_tight(bench: Bench, session: str) -> None:
    """Issue 18's targets against tight floors, each in pairs of whole processes (see
    py): a cold export against espeak-ng on both cores plus an int16 write,
    fsync'd; a warm export at a new pace against the write; the session's rows."""
    if shutil.which("espeak-ng") is None:
        bench.say("tight floors: skipped, espeak-ng missing (Debian: apt-get install espeak-ng)")
        return
    timeline = bench.show_timeline(session)
    total_frames = round(timeline["duration_s"] * RATE_HZ)
    texts = list(dict.fromkeys(e["text"] for e in timeline["events"] if e["kind"] == "speech"))
    out = bench.folder / f"{session}-tight.wav"

    def cold_export(_run: int) -> float:
        env = bench.env_with_cache(bench.fresh_folder("cache"))
        seconds = run_s([*LOOSEN, "export", session, "-o", str(out)], env)
        out.unlink()
        return seconds

    def floors(_run: int) -> float:
        speech_s = speech_floor_s(texts, bench.fresh_folder("espeak"))
        return speech_s + write_floor_s(out, total_frames, bench.env)

    warm_env = bench.env_with_cache(bench.fresh_folder("cache"))
    run_s([*LOOSEN, "export", session, "-o", str(out)], warm_env)  # fills it
    paced_frames: list[int] = []

    def warm_new_pace(run: int) -> float:
        pace = f"{1.05 + 0.05 * run:.2f}"  # a pace not rendered before: nothing of it kept
        command = [*LOOSEN, "export", session, "-o", str(out), "--pace", pace]
        seconds = run_s(command, warm_env)
        paced_frames.append(soundfile.info(str(out)).frames)
        out.unlink()
        return seconds

    def write_paced(_run: int) -> float:
        return write_floor_s(out, paced_frames[-1], bench.env)

    rows = [
        (f"{session}: cold export / (espeak-ng on 2 cores + int16 write, fsync)",
         cold_export, floors, 1.5),
        (f"{session}: warm export, new --pace / int16 write, fsync",
         warm_new_pace, write_paced, 1.5),
    ]  # fmt: skip
    for name, a, b, limit in rows:
        row = measure_pairs(name, a, b, bench.runs, limit, bench.say)
        bench.pair_rows.append(row)


def measure_long(bench: Bench) -> None:
    """A warm export of 8 hours against one of 2 hours, in pairs: linear, ratio <= 4.4."""
    env = bench.env_with_cache(bench.fresh_folder("cache"))
    env["LOOSEN_MAX_SESSION_H"] = "9"  # over the default limit of 6 hours
    scripts = {  # pmr-16's groups 9 times last 2 hours
        hours: long_scripts.write_script(
            bench.folder / f"{hours}-hours.toml",
            f"{hours} hours",
            groups=16,
            times=9 * hours // 2,
        )
        for hours in (2, 8)
    }
    bench.check_script(scripts[2], env)  # fills the speech cache: both are warm
    out = bench.folder / "long.wav"

    def export(hours: int) -> Step:
        def step(_run: int) -> float:
            command = [*LOOSEN, "export", str(scripts[hours]), "-o", str(out)]
            seconds = run_s(command, env)
            out.unlink()
            return seconds

        return step

    row = measure_pairs(
        "warm export of 8 h / of 2 h", export(8), export(2), bench.runs, 4.4, bench.say
    )
    bench.pair_rows.append(row)
