"""What the player's keys do to what is heard: `loosen play` in a pseudo-terminal, through the
real audio server, its output recorded from the sink's monitor and measured against what
`loosen export` writes for the same session.

A hold of 12 s (tests/data/hold.toml) runs between its two chimes; a key is typed inside it.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from tests.audio_server import Recorder, find_in, mono, require_audio_server
from tests.terminal import Terminal

HERE = Path(__file__).parent.parent
HOLD = HERE / "data" / "hold.toml"
RATE = 48_000


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("heard")
    out, timeline = folder / "hold.wav", folder / "hold.json"
    subprocess.run(
        [sys.executable, "-m", "loosen", "export", str(HOLD), "-o", str(out),
         "--timeline", str(timeline), "--loudness", "off", "--channels", "1"],
        check=True, capture_output=True,
    )  # fmt: skip
    audio, _ = sf.read(out, dtype="float32")
    return audio, json.loads(timeline.read_text())


def event(document: dict[str, Any], **wanted: object) -> dict[str, Any]:
    (found,) = [e for e in document["events"] if all(e[k] == v for k, v in wanted.items())]
    return found


def frame(seconds: float) -> int:
    return round(seconds * RATE)


def play_and_type(tmp_path: Path, key: str, at_s: float) -> np.ndarray:
    """Play the session, type ``key`` once the status line shows ``at_s`` seconds, and
    return what the sink played (mono)."""
    sink = require_audio_server()
    env = {**os.environ, "LOOSEN_STATE_DIR": str(tmp_path), "TERM": "xterm"}
    recording = tmp_path / "played.wav"
    with Recorder(sink, recording) as recorder:
        terminal = Terminal("play", str(HOLD), env=env)
        try:
            shown = f"{int(at_s) // 60}:{int(at_s) % 60:02d} /"
            terminal.wait_for(rf"Playing .*{re.escape(shown)}", timeout_s=60)
            terminal.type(key)
            terminal.wait_for(r"Finished", timeout_s=60)
            assert terminal.finish() == 0
        finally:
            terminal.close()
    return mono(recorder.read())


def locate(recorded: np.ndarray, reference: np.ndarray, at: int, near: int) -> int:
    """Where the sound of ``reference`` from frame ``at`` (10 ms before it to 200 ms after)
    lies in ``recorded``, searched within ``near`` frames of frame ``at`` of the recording's
    own time line... given as an estimate."""
    template = reference[at - RATE // 100 : at + RATE // 5]
    return find_in(recorded, template, at, near) + RATE // 100


def chimes_in(recorded: np.ndarray, audio: np.ndarray, document: dict[str, Any]) -> tuple[int, int]:
    """Where the hold's start and end chimes sound in the recording."""
    start = frame(event(document, kind="chime", cue="hold_start")["start_s"])
    end = frame(event(document, kind="chime", cue="hold_end")["start_s"])
    found_start = locate(recorded, audio, start, len(recorded))
    return found_start, locate(recorded, audio, end, len(recorded))


def test_time_left_is_said_inside_the_hold_and_the_hold_keeps_its_length(
    tmp_path: Path, exported: tuple[np.ndarray, dict[str, Any]]
) -> None:
    audio, document = exported
    hold = event(document, kind="hold")
    recorded = play_and_type(tmp_path, "t", hold["start_s"] + 3)
    start, end = chimes_in(recorded, audio, document)
    assert abs((end - start) - frame(12.0)) <= frame(0.005)  # not a frame more than 12 s
    # the words: sound where the export is silent, inside the hold, clear of both chimes
    offset = start - frame(event(document, kind="chime", cue="hold_start")["start_s"])
    reference = np.zeros_like(recorded)
    span = slice(max(offset, 0), min(len(recorded), offset + len(audio)))
    reference[span] = audio[span.start - offset : span.stop - offset]
    extra = np.abs(recorded - reference) > 10 ** (-40 / 20)
    loud = np.flatnonzero(extra)
    assert loud.size, "no words were heard"
    assert start + frame(2.0) < loud[0] and loud[-1] < end  # after the start chime rang out
    assert (loud[-1] - loud[0]) / RATE > 0.8  # "About N seconds left."


def test_repeat_says_the_instruction_again_with_the_hold_waiting_for_it(
    tmp_path: Path, exported: tuple[np.ndarray, dict[str, Any]]
) -> None:
    audio, document = exported
    hold = event(document, kind="hold")
    line = event(document, kind="speech", text="Stretch, and hold.")
    words = audio[frame(line["start_s"]) : frame(line["end_s"])]
    recorded = play_and_type(tmp_path, "r", hold["start_s"] + 4)
    start, end = chimes_in(recorded, audio, document)
    # the instruction, said again inside the hold ...
    again = find_in(recorded, words, start + frame(6.0), frame(4.0))
    assert start < again < end
    said = recorded[again : again + len(words)]
    assert np.corrcoef(said, words)[0, 1] > 0.99
    # ... while the hold waited: it lasts its 12 s, and the words
    assert abs((end - start) - frame(12.0) - len(words)) <= frame(0.005)
