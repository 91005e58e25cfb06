"""`loosen play` through a real audio server, recorded from the sink's monitor and compared with
what `loosen export` writes for the same span (before loudness normalisation, a constant gain
and a peak limiter that only exports get)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.audio_server import Recorder, align, find_in, mono, require_audio_server

HERE = Path(__file__).parent.parent
TINY = HERE / "data" / "tiny.toml"
RATE = 48_000


def test_what_is_played_is_what_is_exported_with_chimes_on_time(tmp_path: Path) -> None:
    sink = require_audio_server()
    env = {**os.environ, "LOOSEN_STATE_DIR": str(tmp_path)}
    exported, timeline = tmp_path / "tiny.wav", tmp_path / "tiny.json"
    subprocess.run(
        [sys.executable, "-m", "loosen", "export", str(TINY), "-o", str(exported),
         "--timeline", str(timeline), "--loudness", "off"],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    document = json.loads(timeline.read_text())
    (taps,) = [s for s in document["steps"] if s["name"] == "taps"]
    start = round(taps["start_s"] * RATE)
    reference = sf.read(exported, dtype="float32")[0][start:]

    recording = tmp_path / "played.wav"
    with Recorder(sink, recording) as recorder:
        played = subprocess.run(
            [sys.executable, "-m", "loosen", "play", str(TINY), "--from", "taps", "--quiet"],
            env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    assert played.returncode == 0, played.stderr
    recorded = recorder.read()

    offset, similarity = align(recorded, reference)
    assert offset >= 0
    assert similarity > 0.98  # the same samples, but for 16-bit rounding in the export
    chimes = [
        e for e in document["events"] if e["kind"] == "chime" and e["start_s"] >= taps["start_s"]
    ]
    assert {e["cue"] for e in chimes} >= {
        "rep",
        "inhale",
        "exhale",
        "hold_start",
        "hold_end",
        "session_end",
    }
    for chime in chimes:
        at = round(chime["start_s"] * RATE) - start  # in the reference span
        scheduled = offset + at
        # the exported sound from 10 ms before the onset to 200 ms after: the chime's attack in
        # its context, so a tone's periodicity cannot fool the match
        template = mono(reference[at - RATE // 100 : at + RATE // 5])
        found = find_in(mono(recorded), template, scheduled - RATE // 100, RATE // 10)
        found += RATE // 100
        assert abs(found - scheduled) <= 0.020 * RATE, (chime, (found - scheduled) / RATE)
    assert np.max(np.abs(recorded)) <= 10 ** (-1 / 20) + 1e-3
