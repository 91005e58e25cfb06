"""What each of the export's speed paths buys: the path, and the plain way without it, taking
turns (A B A B ...), the ratio per pair, median and range. For issue 15's review: a path that
adds complexity stays only where it earns its place.

Run: PYTHONPATH=src python tests/benchmarks/bench_paths.py [--pairs N] [--session NAME]

The rows (back-loosening by default, 48 kHz, stereo, default options):

- pass 1 from the sounds (`Rendering.measure_loudness`, a warm cache holding each line's
  K-weighted profile) / the streaming meter over the mixed mono blocks, as a session with an
  ambience is measured;
- the same from the sounds with no profiles kept (every line resampled and K-weighted again)
  / with them;
- the K-weighting filter's product in float32 / in float64 (`KFilter.filtered`), over the
  session's length of noise.

Each figure is wall time in one process (the renderings are opened before the clock starts), so
the ratios cancel the machine's speed; a busy machine widens the ranges.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from loosen.loudness import meter as meter_module
from loosen.loudness.meter import KFilter, LoudnessMeter
from loosen.pipeline import SessionOptions, export_session, open_rendering

Timed = Callable[[], object]


def seconds(run: Timed) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def pairs(name: str, path: Timed, plain: Timed, count: int) -> None:
    """Time ``path`` and ``plain`` in turns, ``count`` times each; print the row."""
    ratios, path_s, plain_s = [], [], []
    for _ in range(count):
        a, b = seconds(path), seconds(plain)
        path_s.append(a)
        plain_s.append(b)
        ratios.append(a / b)
    print(
        f"{name}: {statistics.median(path_s):.3f} s / {statistics.median(plain_s):.3f} s = "
        f"{statistics.median(ratios):.2f} x ({min(ratios):.2f}-{max(ratios):.2f})",
        flush=True,
    )


def pass_one_rows(session: str, count: int, cache: Path) -> None:
    os.environ["LOOSEN_CACHE_DIR"] = str(cache)
    export_session(session, cache / "warm-up.wav")  # fills the cache: lines and profiles
    with open_rendering(session, SessionOptions()) as rendering:

        def from_sounds() -> object:
            return rendering.measure_loudness()

        def streamed() -> object:
            meter = LoudnessMeter(rendering.sample_rate, 1)
            for block in rendering.blocks(block_frames=rendering.sample_rate, mono=True):
                meter.add(block)
            return meter.integrated_lufs()

        pairs("pass 1 from the sounds / streaming meter over the mix", from_sounds, streamed, count)
        speech = rendering.layout.clips.speech
        kept = speech.cache

        def without_profiles() -> object:
            speech.cache = None
            try:
                return rendering.measure_loudness()
            finally:
                speech.cache = kept

        pairs(
            "pass 1 from the sounds without profiles / with", without_profiles, from_sounds, count
        )


def kernel_rows(session_s: float, count: int) -> None:
    rate = 48_000
    noise = (np.random.default_rng(1).standard_normal((int(session_s * rate), 1)) * 0.1).astype(
        np.float32
    )
    in_float32 = KFilter.filtered

    def in_float64(self: KFilter, x: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, ...]:
        channels, (n, count_) = x.shape[1], (self.n, self.count)
        padded = np.zeros((channels, count_ * n))
        padded[:, : self.length] = x.T
        sub = padded.reshape(channels, count_, n)
        carried = (sub @ self.from_input_t).reshape(channels, -1) @ self.carry_t
        starts = (state @ self.start_t + carried).reshape(channels, count_, 4)
        y = (sub @ self.toeplitz_t.astype(np.float64)) + starts @ self.from_state_t
        y = y.reshape(channels, -1)[:, : self.length]
        last = padded[:, (count_ - 1) * n : (count_ - 1) * n + self.rest]
        after = starts[:, -1] @ self.last_t + last @ self.last_input_t
        return y, after

    def metered(kernel: object) -> Timed:
        def run() -> object:
            meter_module.KFilter.filtered = kernel  # type: ignore[method-assign]
            meter = LoudnessMeter(rate, 1)
            for start in range(0, len(noise), rate):
                meter.add(noise[start : start + rate])
            meter_module.KFilter.filtered = in_float32  # type: ignore[method-assign]
            return meter.integrated_lufs()

        return run

    pairs("K-weighting product in float32 / float64", metered(in_float32), metered(in_float64),
          count)  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=5, help="pairs per row (default 5)")
    parser.add_argument("--session", default="back-loosening")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="loosen-paths-") as folder:
        pass_one_rows(args.session, args.pairs, Path(folder))
    kernel_rows(15 * 60.0, args.pairs)


if __name__ == "__main__":
    sys.exit(main())
