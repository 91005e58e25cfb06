"""Time to first sound of `loosen play`, with a cold and with a warm speech cache.

Run: python tests/benchmarks/bench_first_sound.py [SESSION] [RUNS] [PLAY OPTIONS...]   (needs a
PulseAudio server whose default sink is a null sink, as `.ci/run` sets up; ``--engine piper``
as play options times Piper). Prints, per cache state, the median over RUNS of three wall times
from starting the command (warm: every line of the session is in the speech cache):

- started: the output stream runs with the session's first block queued: its first sound (the
  session's own 0.25 s lead-in of silence, the same samples the exported file starts with)
  is on its way to the device;
- word: started + that lead-in + the output latency: when the first word reaches the device;
- heard: when the first non-silent sample came out of the sink's monitor (a recorder reading
  it, 20 ms at a time: what a listener would hear, give or take a fragment).

A null sink left alone renders in blocks of up to 2 s, so a new stream waits up to 2 s before
the server asks it for more: a delay no real output device has. A recorder on the sink's
monitor asking for 20 ms keeps the sink at low latency, as a desktop's sound card runs.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from loosen.plan.timeline import LEAD_IN_S

LATENCY_S = 0.1  # loosen play's default output latency
# the null sink renders what it buffered before a low latency takes effect: it has when this
# many fragments in a row came each within STEADY_GAP_S of the one before, at the pace of real
# time (a backlog read at once comes faster: it does not count)
STEADY_FRAGMENTS = 25
STEADY_GAP_S = 0.06
STEADY_FRACTION = 0.8  # of the fragments' own length, the least time they took to come


def first_sound_s(
    session: str, cache: Path, monitor: Monitor, options: tuple[str, ...] = ()
) -> tuple[float, float]:
    """Seconds from starting `loosen play` to (the stream started with the first block queued,
    the first non-silent sample heard on the monitor), both against this process's clock."""
    env = {**os.environ, "LOOSEN_CACHE_DIR": str(cache), "LOOSEN_STATE_DIR": str(cache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: modules load from bytecode
    began = time.time()
    monitor.listen_from(began)
    process = subprocess.Popen(
        [sys.executable, "-m", "loosen", "play", session, "--quiet", "-v", *options],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, env=env,
        # Ctrl+C must reach it even when this runs in the background, where a shell ignores it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    heard = monitor.heard.wait(timeout=60.0)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    block = re.search(r"first block to the device after [\d.]+ s \(at ([\d.]+)\)", err)
    if not (block and heard and monitor.heard_at is not None):
        raise RuntimeError(f"loosen play was not heard:\n{err}")
    return float(block[1]) - began, monitor.heard_at - began


def fill_cache(session: str, cache: Path, options: tuple[str, ...]) -> None:
    """Speak every line of ``session`` into ``cache`` (an export to a file thrown away)."""
    env = {**os.environ, "LOOSEN_CACHE_DIR": str(cache), "LOOSEN_STATE_DIR": str(cache)}
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "loosen", "export", session, "--loudness", "off"]
        out = str(Path(folder) / "filled.wav")
        subprocess.run([*command, "-o", out, *options], env=env, check=True, capture_output=True)


class Monitor:
    """A recorder on the default sink's monitor, asking for 20 ms (see the module doc), that
    notes when it first hears a sound after `listen_from` (its own thread reads the pipe)."""

    RATE_HZ = 8000
    FRAGMENT = RATE_HZ // 50  # 20 ms of mono float32

    def __init__(self) -> None:
        parec = shutil.which("parec")
        if parec is None:
            raise SystemExit("parec is missing (Debian: pulseaudio-utils)")
        self._process = subprocess.Popen(
            [parec, "--latency-msec=20", "-d", "@DEFAULT_MONITOR@", "--format=float32le",
             "--channels=1", f"--rate={self.RATE_HZ}"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.heard = threading.Event()
        self.steady = threading.Event()  # the sink runs at the recorder's 20 ms
        self.heard_at: float | None = None
        self._since = math.inf
        self._reader = threading.Thread(target=self._read, name="monitor", daemon=True)
        self._reader.start()
        if not self.steady.wait(timeout=60.0):
            raise SystemExit("the sink's monitor never ran at 20 ms: is the null sink there?")

    def listen_from(self, moment: float) -> None:
        self.heard.clear()
        self.heard_at, self._since = None, moment

    def _read(self) -> None:
        assert self._process.stdout is not None
        previous, run_began, in_a_row = -math.inf, 0.0, 0
        fragment_s = self.FRAGMENT / self.RATE_HZ
        while chunk := self._process.stdout.read(4 * self.FRAGMENT):
            now = time.time()
            if now - previous <= STEADY_GAP_S:
                in_a_row += 1
            else:
                run_began, in_a_row = now, 0
            previous = now
            paced = now - run_began >= STEADY_FRACTION * fragment_s * in_a_row
            if in_a_row >= STEADY_FRAGMENTS and paced:
                self.steady.set()
            listening = now >= self._since and not self.heard.is_set()
            if listening and np.abs(np.frombuffer(chunk, np.float32)).max(initial=0.0) > 1e-4:
                self.heard_at = now
                self.heard.set()

    def close(self) -> None:
        self._process.terminate()
        self._process.wait()
        self._reader.join(timeout=5)


def measure(
    session: str, runs: int, options: tuple[str, ...] = ()
) -> dict[str, tuple[float, float, float]]:
    """Median (started, word, heard) seconds per cache state, ``"cold"`` and ``"warm"``."""
    results: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": []}
    monitor = Monitor()
    try:
        with tempfile.TemporaryDirectory() as folder:
            first_sound_s(session, Path(folder), monitor, options)  # untimed: bytecode, cache
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as folder:
                cache = Path(folder)
                results["cold"].append(first_sound_s(session, cache, monitor, options))
                fill_cache(session, cache, options)  # what was played need not have spoken all
                results["warm"].append(first_sound_s(session, cache, monitor, options))
    finally:
        monitor.close()
    medians = {}
    for name, pairs in results.items():
        started = statistics.median(p[0] for p in pairs)
        taken = statistics.median(p[1] for p in pairs)
        medians[name] = (started, started + LEAD_IN_S + LATENCY_S, taken)
    return medians


def main() -> None:
    session = sys.argv[1] if len(sys.argv) > 1 else "pmr-16"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    options = tuple(sys.argv[3:])
    medians = measure(session, runs, options)
    command = " ".join(["loosen play", session, *options])
    print(f"{command}, seconds from the command (median of {runs} runs):")
    print("  started: the stream runs with the session's first block (its lead-in) queued")
    print(f"  word:    + the {LEAD_IN_S} s lead-in and {LATENCY_S} s output latency")
    print("  heard:   the first non-silent sample came out of the sink's monitor")
    print(f"{'cache':<6} {'started':>8} {'word':>8} {'heard':>8}")
    for name, (started, word, taken) in medians.items():
        print(f"{name:<6} {started:>8.3f} {word:>8.3f} {taken:>8.3f}")


if __name__ == "__main__":
    main()
