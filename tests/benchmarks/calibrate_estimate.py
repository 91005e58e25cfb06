"""How close `loosen list`'s length estimate comes to the real length, and the line model's fit.

    PYTHONPATH=src python tests/benchmarks/calibrate_estimate.py [--rate WPM] [--fit]

For each bundled session: the estimate (`loosen.plan.estimate.session_length` with nothing cached)
against the length with the speech really synthesized by espeak-ng (into the speech cache, so a
second run is quick). ``--fit`` also fits the line model of `loosen.plan.estimate.estimate_speech_s`
to every distinct line of the bundled sessions (least squares) and prints its coefficients, for
when espeak-ng or the sessions' words change. Not part of the test run.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from loosen.plan.estimate import _CLAUSE, _CLOSING, _SENTENCE, session_length
from loosen.script.durations import format_length
from loosen.script.library import bundled_scripts
from loosen.script.loading import load_session
from loosen.sound.cues import load_cue_set
from loosen.tts import Speech, SpeechCache, open_engine
from loosen.tts.clips import speech_frames


def _features(text: str) -> list[float]:
    inside = _CLOSING.sub("", text.strip())
    return [
        1.0,
        float(sum(c.isalnum() for c in text)),
        float(len(_CLAUSE.findall(inside))),
        float(len(_SENTENCE.findall(inside))),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=150)
    parser.add_argument("--fit", action="store_true")
    args = parser.parse_args()
    lines: dict[str, float] = {}
    worst = 0.0
    with tempfile.TemporaryDirectory() as empty:
        for name, path in bundled_scripts().items():
            session = load_session(path)
            cue_set = load_cue_set(session.cues, script_path=session.path)
            with open_engine("pyttsx3", rate_wpm=args.rate) as engine:
                cold = Speech(engine, SpeechCache(Path(empty)))
                estimate = session_length(session, speech=cold, cue_set=cue_set)
                speech = Speech(engine, SpeechCache())
                speech.prepare(_texts(session, speech, cue_set))
                real = session_length(session, speech=speech, cue_set=cue_set)
                assert real.exact and not estimate.exact
                for text in _texts(session, speech, cue_set):
                    lines[text] = speech_frames(speech.clip(text), 48_000) / 48_000
            error = estimate.seconds - real.seconds
            worst = max(worst, abs(error) / real.seconds)
            print(
                f"{name:<16} real {format_length(real.seconds):>6} ({real.seconds:7.1f} s)  "
                f"estimate ~{format_length(estimate.seconds):>6} ({estimate.seconds:7.1f} s)  "
                f"{error:+6.1f} s ({100 * error / real.seconds:+.1f} %)"
            )
    print(f"worst: {100 * worst:.1f} % at {args.rate} wpm")
    if args.fit:
        x = np.array([_features(t) for t in lines])
        y = np.array(list(lines.values())) * args.rate / 150
        coefficients, *_ = np.linalg.lstsq(x, y, rcond=None)
        residuals = x @ coefficients - y
        print("base, per char, per clause, per sentence (s at 150 wpm):", np.round(coefficients, 4))
        print(f"per line: sd {residuals.std():.3f} s, worst {np.abs(residuals).max():.3f} s")


def _texts(session: object, speech: Speech, cue_set: object) -> list[str]:
    """Every line the session speaks (what the engine is given)."""
    from loosen.render.rendering import _spoken_texts, render_session

    rendering = render_session(session, speech=speech, cue_set=cue_set, progressive=True)  # type: ignore[arg-type]
    return _spoken_texts(rendering.steps, rendering, 0.0)


if __name__ == "__main__":
    main()
