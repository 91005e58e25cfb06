"""`loosen sounds --play NAME` through a real audio server, recorded from the sink's monitor."""

import subprocess
import sys
from pathlib import Path

from loosen.sound.cues import load_cue_set, render_cue
from tests.audio_server import Recorder, align, require_audio_server

RATE = 48_000


def test_a_cue_sound_is_heard_as_a_session_plays_it(tmp_path: Path) -> None:
    sink = require_audio_server()
    recording = tmp_path / "heard.wav"
    with Recorder(sink, recording) as recorder:
        played = subprocess.run(
            [sys.executable, "-m", "loosen", "sounds", "--play", "hold_end"],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    assert played.returncode == 0, played.stderr
    assert played.stdout == played.stderr == ""
    sound = render_cue("hold_end", load_cue_set(), RATE)
    # a stream's first and last few tens of milliseconds may not arrive: compare the middle
    offset, similarity = align(recorder.read(), sound[RATE // 20 : -RATE // 20])
    assert offset >= 0
    assert similarity > 0.98
