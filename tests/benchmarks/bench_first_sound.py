"""Time to first sound of `loosen play`, with a cold and with a warm speech cache.

Run: python tests/benchmarks/bench_first_sound.py [SESSION] [RUNS] [PLAY OPTIONS...]   (needs a
PulseAudio server whose default sink is a null sink, as `.ci/run` sets up; ``--engine piper``
as play options times Piper). Prints, per cache state, the median over RUNS of three wall times
from starting the command (warm: every line of the session is in the speech cache):

- started: the output stream runs with the session's first block queued: its first sound (the
  session's own 0.25 s lead-in of silence, the same samples the exported file starts with)
  is on its way to the device;
- word: started + that lead-in + the output latency: when the first word reaches the device;
- taken: when the audio server asked for the block holding the first non-silent sample.

A null sink left alone renders in blocks of up to 2 s, so a new stream waits up to 2 s before
the server asks it for more: a delay no real output device has. A recorder on the sink's
monitor asking for 20 ms keeps the sink at low latency, as a desktop's sound card runs.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from loosen.plan.timeline import LEAD_IN_S

LATENCY_S = 0.1  # loosen play's default output latency
SETTLE_S = 2.5  # the null sink renders what it buffered before a low latency takes effect


def first_sound_s(session: str, cache: Path, options: tuple[str, ...] = ()) -> tuple[float, float]:
    """Seconds from starting `loosen play` to (the stream started with the first block queued,
    the server taking the first non-silent sample), both against this process's wall clock."""
    env = {**os.environ, "LOOSEN_CACHE_DIR": str(cache), "LOOSEN_STATE_DIR": str(cache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: modules load from bytecode
    began = time.time()
    process = subprocess.Popen(
        [sys.executable, "-m", "loosen", "play", session, "--quiet", "-v", *options],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, env=env,
        # Ctrl+C must reach it even when this runs in the background, where a shell ignores it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    time.sleep(3.0)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    block = re.search(r"first block to the device after [\d.]+ s \(at ([\d.]+)\)", err)
    sound = re.search(r"first sound at ([\d.]+)", err)
    if not (block and sound):
        raise RuntimeError(f"loosen play did not report its first sound:\n{err}")
    return float(block[1]) - began, float(sound[1]) - began


def fill_cache(session: str, cache: Path, options: tuple[str, ...]) -> None:
    """Speak every line of ``session`` into ``cache`` (an export to a file thrown away)."""
    env = {**os.environ, "LOOSEN_CACHE_DIR": str(cache), "LOOSEN_STATE_DIR": str(cache)}
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "loosen", "export", session, "--loudness", "off"]
        out = str(Path(folder) / "filled.wav")
        subprocess.run([*command, "-o", out, *options], env=env, check=True, capture_output=True)


def low_latency_monitor() -> subprocess.Popen[bytes]:
    """Record the default sink's monitor into nothing, asking for 20 ms (see the module doc)."""
    parecord = shutil.which("parecord")
    if parecord is None:
        raise SystemExit("parecord is missing (Debian: pulseaudio-utils)")
    recorder = subprocess.Popen(
        [parecord, "--latency-msec=20", "-d", "@DEFAULT_MONITOR@", "--raw", os.devnull],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(SETTLE_S)
    return recorder


def measure(
    session: str, runs: int, options: tuple[str, ...] = ()
) -> dict[str, tuple[float, float, float]]:
    """Median (started, word, taken) seconds per cache state, ``"cold"`` and ``"warm"``."""
    results: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": []}
    recorder = low_latency_monitor()
    try:
        with tempfile.TemporaryDirectory() as folder:
            first_sound_s(session, Path(folder), options)  # untimed: bytecode, files in cache
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as folder:
                cache = Path(folder)
                results["cold"].append(first_sound_s(session, cache, options))
                fill_cache(session, cache, options)  # the 3 s played need not have spoken all
                results["warm"].append(first_sound_s(session, cache, options))
    finally:
        recorder.terminate()
        recorder.wait()
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
    print("  taken:   the audio server took the first non-silent sample")
    print(f"{'cache':<6} {'started':>8} {'word':>8} {'taken':>8}")
    for name, (started, word, taken) in medians.items():
        print(f"{name:<6} {started:>8.3f} {word:>8.3f} {taken:>8.3f}")


if __name__ == "__main__":
    main()
