"""How fast two parts of the pipeline are on their own, as multiples of what they must keep up with.

Run: PYTHONPATH=src python tests/benchmarks/bench_parts.py [--runs N]

- each bundled ambience's noise bed, rendered in 4096-frame blocks at 48 kHz stereo, as a
  multiple of real time (the player mixes it live, so it must stay far above 1x);
- the espeak engine speaking a short text ("Rest.") in process, milliseconds per text, and as a
  multiple of real time of the speech it makes.

These were asserts in the unit tests (30x real time, 50 ms a text); timing belongs here, where
a busy machine widens a figure instead of failing a build. Median of N runs (default 5).
"""

from __future__ import annotations

import argparse
import statistics
import time

from loosen.sound.ambience import load_ambience
from loosen.sound.noise import NoiseBed
from loosen.tts import open_engine

RATE = 48_000
BLOCK_FRAMES = 4096
BED_SECONDS = 30
SHORT = "Rest."


def bed_real_time_multiple(name: str) -> float:
    bed = NoiseBed(load_ambience(name), RATE)
    began = time.perf_counter()
    for start in range(0, BED_SECONDS * RATE, BLOCK_FRAMES):
        bed.render(start, BLOCK_FRAMES)
    return BED_SECONDS / (time.perf_counter() - began)


def espeak_short_text() -> tuple[float, float]:
    """Milliseconds per short text, and seconds of speech per second of synthesis."""
    with open_engine("espeak") as engine:
        list(engine.synthesize([SHORT]))  # warm: the voice is loaded
        began = time.perf_counter()
        clips = [clip for _, clip in engine.synthesize([SHORT] * 10)]
        spent_s = time.perf_counter() - began
    speech_s = sum(clip.n_frames / clip.sample_rate for clip in clips)
    return 1000 * spent_s / 10, speech_s / spent_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    for name in ("brown-noise", "pink-noise", "surf"):
        multiples = [bed_real_time_multiple(name) for _ in range(runs)]
        print(
            f"noise bed {name:12} {statistics.median(multiples):7.0f}x real time "
            f"(range {min(multiples):.0f}-{max(multiples):.0f})"
        )
    measured = [espeak_short_text() for _ in range(runs)]
    ms = [m for m, _ in measured]
    multiple = statistics.median(x for _, x in measured)
    print(
        f"espeak {SHORT!r:18} {statistics.median(ms):7.1f} ms a text "
        f"(range {min(ms):.1f}-{max(ms):.1f}), {multiple:.0f}x real time"
    )


if __name__ == "__main__":
    main()
