"""Time to first sound of `loosen play`, with a cold and with a warm speech cache.

Run: python tests/benchmarks/bench_first_sound.py [SESSION] [RUNS]   (needs an audio output;
in CI, the PulseAudio null sink). Prints, per cache state, the median over RUNS of the wall time
from starting the command to the first block handed to the audio device, and the estimated
first audible sample: that plus the session's lead-in of silence and the output latency.
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from loosen.timeline import LEAD_IN_S

LATENCY_S = 0.1  # loosen play's default output latency


def first_sound_s(session: str, cache: Path) -> tuple[float, float]:
    """Seconds from starting `loosen play` to (first block handed to the device, first audible
    sample handed to the device), both measured against this process's wall clock."""
    env = {**os.environ, "LOOSEN_CACHE_DIR": str(cache), "LOOSEN_STATE_DIR": str(cache)}
    began = time.time()
    process = subprocess.Popen(
        [sys.executable, "-m", "loosen", "play", session, "--quiet", "-v"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, env=env,
    )  # fmt: skip
    time.sleep(3.0)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    block = re.search(r"first block to the device after [\d.]+ s \(at ([\d.]+)\)", err)
    sound = re.search(r"first sound at ([\d.]+)", err)
    if not (block and sound):
        raise RuntimeError(f"loosen play did not report its first sound:\n{err}")
    return float(block[1]) - began, float(sound[1]) - began


def main() -> None:
    session = sys.argv[1] if len(sys.argv) > 1 else "pmr-16"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    results: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": []}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            cache = Path(folder)
            results["cold"].append(first_sound_s(session, cache))
            results["warm"].append(first_sound_s(session, cache))
    print(f"loosen play {session}, seconds from the command (median of {runs} runs):")
    print("  started: the output stream runs, with the session's first 0.25 s queued")
    print(f"  audible: + the {LEAD_IN_S} s lead-in and {LATENCY_S} s output latency")
    print("  handed:  the first audible sample taken by the audio server (its start-up included)")
    print(f"{'cache':<6} {'started':>8} {'audible':>8} {'handed':>8}")
    for name, pairs in results.items():
        started = statistics.median(p[0] for p in pairs)
        handed = statistics.median(p[1] for p in pairs)
        audible = started + LEAD_IN_S + LATENCY_S
        print(f"{name:<6} {started:>8.3f} {audible:>8.3f} {handed:>8.3f}")


if __name__ == "__main__":
    main()
