"""`loosen play` answers the desktop's media controls, tried as a listener meets them: the real
player on the CI's null sink, recorded from its monitor, driven by the real `playerctl` over a
private session bus. Pause makes the recording silent; play goes on where it stopped (the
recording matches the export there); metadata names the step; next moves on; stop ends it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from loosen.pipeline import MixOptions, SessionOptions, open_rendering
from loosen.playback.answers import answer_sound
from tests.audio_server import Recorder, align, find_in, mono, require_audio_server
from tests.session_bus import playerctl, playing_on_bus, private_session_bus
from tests.tools import require_module

require_module("dbus_fast")

HERE = Path(__file__).parent.parent
TINY = HERE / "data" / "tiny.toml"
RATE = 48_000
CHANNELS = 2
MIX = ("--ambience", "brown-noise")  # a sound that never stops: a pause is heard as silence
ANSWER_WITHIN_S = 0.3
NAMED_WITHIN_S = 0.5
SILENT_DBFS = -60.0


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def recorded_frames(path: Path) -> int:
    """Frames in the recording so far (float32 stereo; the header's few bytes aside)."""
    return path.stat().st_size // (4 * CHANNELS)


def answers(address: str) -> bool:
    try:
        return playerctl(address, "status") in ("Playing", "Paused")
    except subprocess.CalledProcessError:  # "No players found" until it has registered
        return False


def level_dbfs(audio: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(mono(audio).astype(np.float64) ** 2)))
    return 20 * np.log10(rms) if rms > 0 else -np.inf


def test_media_keys_pause_resume_name_the_step_skip_and_stop(tmp_path: Path) -> None:
    sink = require_audio_server()
    env = {**os.environ, "LOOSEN_STATE_DIR": str(tmp_path), "LOOSEN_CACHE_DIR": str(tmp_path)}
    exported = tmp_path / "tiny.wav"
    subprocess.run(
        [sys.executable, "-m", "loosen", "export", str(TINY), "-o", str(exported),
         "--loudness", "off", *MIX],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    reference = sf.read(exported, dtype="float32")[0]
    recording = tmp_path / "played.wav"
    with (
        private_session_bus() as address,
        Recorder(sink, recording) as recorder,
        playing_on_bus(address, [str(TINY), "--quiet", *MIX], env) as player,
    ):
        wait_for(lambda: answers(address), "the player on the session bus")
        started = recorded_frames(recording)
        wait_for(lambda: recorded_frames(recording) > started + 2 * RATE, "2 s of playing")
        paused_at = recorded_frames(recording)
        playerctl(address, "pause")
        wait_for(lambda: playerctl(address, "status") == "Paused", "the status to follow")
        wait_for(lambda: recorded_frames(recording) > paused_at + 2 * RATE, "2 s paused")
        resumed_at = recorded_frames(recording)
        playerctl(address, "play")
        wait_for(lambda: recorded_frames(recording) > resumed_at + 2 * RATE, "2 s resumed")
        assert playerctl(address, "metadata", "xesam:title") == "Reach, right side"
        assert playerctl(address, "metadata", "xesam:album") == "Tiny"
        next_at = recorded_frames(recording)
        playerctl(address, "next")
        wait_for(
            lambda: playerctl(address, "metadata", "xesam:title") == "Reach, left side",
            "the next step",
        )
        wait_for(lambda: recorded_frames(recording) > next_at + 4 * RATE, "4 s of the next")
        playerctl(address, "stop")
        _, err = player.communicate(timeout=30)
    assert player.returncode == 0, err
    recorded = recorder.read()

    answer = round(ANSWER_WITHIN_S * RATE)
    pause_sound, resume_sound = answer_sound("pause", RATE), answer_sound("resume", RATE)
    before = recorded[paused_at - RATE // 2 : paused_at]
    answered = recorded[paused_at : paused_at + answer + pause_sound.size]
    silent = recorded[paused_at + answer + pause_sound.size : resumed_at]
    went_on = resumed_at + answer + resume_sound.size  # the resume's sound is over by then
    after = recorded[went_on : went_on + RATE]
    assert level_dbfs(before) > -50.0  # the ambience, playing
    assert align(answered, pause_sound)[1] > 0.9  # the pause's own sound, alone, within 0.3 s
    assert level_dbfs(silent) < SILENT_DBFS  # then nothing
    assert align(recorded[resumed_at:went_on], resume_sound)[1] > 0.3  # heard over the ambience
    assert level_dbfs(after) > -50.0  # playing again
    # where it went on: the same place of the export as where it stopped
    start_offset, similarity = align(recorded[:paused_at], reference)
    assert similarity > 0.9
    stopped_frame = paused_at - start_offset  # of the export, give or take the answer time
    # (searched near there: the ambience's bed loops, and would match a loop later too)
    lead = went_on - resumed_at
    found = find_in(reference, after, stopped_frame + lead, search_frames=2 * RATE)
    assert abs((found - lead) - stopped_frame) < answer

    # next: the step's name, spoken before it starts, then the step from its start
    with open_rendering(TINY, SessionOptions(mix=MixOptions(ambience="brown-noise"))) as rendering:
        name = rendering.clips.samples("Reach, left side.") * rendering.voice_gain
        (left,) = [s for s in rendering.timeline.steps if s.name == "reach" and s.side == "left"]
    heard = recorded[next_at : next_at + 4 * RATE]
    said_at, said = align(heard, name)
    assert said > 0.5  # over the ambience
    assert 0 <= said_at < NAMED_WITHIN_S * RATE  # the device's buffer, played out first
    step_heard = heard[said_at + name.size + answer : said_at + name.size + answer + RATE]
    step_at = find_in(reference, step_heard, left.start + answer, search_frames=RATE)
    assert abs(step_at - answer - left.start) < answer


@pytest.mark.parametrize("verbose", [False, True])
def test_without_a_session_bus_it_plays_as_before_and_says_why_only_when_asked(
    tmp_path: Path, verbose: bool
) -> None:
    require_audio_server()
    server = subprocess.run(["pactl", "info"], capture_output=True, text=True, check=True).stdout
    (address,) = [line.split(":", 1)[1].strip() for line in server.splitlines()
                  if line.startswith("Server String:")]  # fmt: skip
    env = {key: value for key, value in os.environ.items() if key != "DBUS_SESSION_BUS_ADDRESS"}
    # a runtime folder without a bus in it; the audio server named, as it was found there
    env.update(XDG_RUNTIME_DIR=str(tmp_path), PULSE_SERVER=address,
               LOOSEN_STATE_DIR=str(tmp_path), LOOSEN_CACHE_DIR=str(tmp_path))  # fmt: skip
    played = subprocess.run(
        [sys.executable, "-m", "loosen", "play", str(TINY), "--quiet", "--start", "0:50",
         *(["-v"] if verbose else [])],
        env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert played.returncode == 0, played.stderr
    said = [line for line in played.stderr.splitlines() if "media keys" in line]
    assert said == (["media keys off: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"]
                    if verbose else [])  # fmt: skip
