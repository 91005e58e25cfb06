"""What the listener makes of a step live, tried as they meet it: the real player on the CI's
null sink, recorded from its monitor, driven by the real `playerctl` over a private session bus.

A step that waits: the player says the step's line and then stays silent, a faint reminder
aside, until play is pressed; then the session goes on from the wait's end. The export has the
fixed pause. A hold extended (seek forward, `e`): its end chime comes ten seconds later."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from loosen.pipeline import SessionOptions, open_rendering
from loosen.playback.answers import answer_sound
from tests.audio_server import Recorder, align, find_in, mono, require_audio_server
from tests.media.test_play_media_keys import level_dbfs, recorded_frames, wait_for
from tests.session_bus import playerctl, playing_on_bus, private_session_bus
from tests.tools import require_module

HERE = Path(__file__).parent.parent
WAITS = HERE / "data" / "waits.toml"
RATE = 48_000
PROMPT = "Press play when you are ready."
REMINDER_S = 3
SILENT_DBFS = -60.0


def loosen(*arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loosen", *arguments],
        check=True, env=env, capture_output=True, text=True,
    )  # fmt: skip


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "LOOSEN_STATE_DIR": str(tmp_path), "LOOSEN_CACHE_DIR": str(tmp_path)}


def test_the_export_has_the_fixed_pause_where_the_step_waits(
    tmp_path: Path, env: dict[str, str]
) -> None:
    timeline = json.loads(loosen("show", str(WAITS), "--json", env=env).stdout)
    [wait] = [e for e in timeline["events"] if e["kind"] == "wait"]
    said = next(e for e in timeline["events"] if e["text"] == "Lie down on your back.")
    following = next(e for e in timeline["events"] if e["start_s"] >= wait["end_s"])
    assert wait["end_s"] - wait["start_s"] == pytest.approx(2.0, abs=1e-5)  # pacing.wait
    assert wait["start_s"] == pytest.approx(said["end_s"] + 0.5, abs=1e-5)  # after the gap
    assert wait["text"] == PROMPT and following["text"] == "Stretch your arms."
    exported = tmp_path / "waits.wav"
    loosen("export", str(WAITS), "-o", str(exported), "--loudness", "off", env=env)
    audio, rate = sf.read(exported, dtype="float32")
    start, end = (round(wait[key] * rate) for key in ("start_s", "end_s"))
    assert level_dbfs(audio[start - rate // 2 : end]) < -90  # silence, the prompt not said
    assert level_dbfs(audio[end : end + rate // 2]) > -40  # then the next instruction

    paced = json.loads(loosen("show", str(WAITS), "--json", "--pace", "2", env=env).stdout)
    [slow] = [e for e in paced["events"] if e["kind"] == "wait"]
    assert slow["end_s"] - slow["start_s"] == pytest.approx(4.0, abs=1e-5)


def test_the_player_waits_silently_with_reminders_until_play_is_pressed(
    tmp_path: Path, env: dict[str, str]
) -> None:
    require_module("dbus_fast")
    sink = require_audio_server()
    recording = tmp_path / "played.wav"
    with (
        private_session_bus() as address,
        Recorder(sink, recording) as recorder,
        playing_on_bus(
            address, [str(WAITS), "--quiet", "--wait-reminder", f"{REMINDER_S}s"], env
        ) as player,
    ):
        wait_for(lambda: _status(address) == "Paused", "the session to wait")
        waiting_seen = recorded_frames(recording)
        wait_for(
            lambda: recorded_frames(recording) > waiting_seen + (2 * REMINDER_S + 1) * RATE,
            "two reminders' time",
        )
        resumed_at = recorded_frames(recording)
        playerctl(address, "play")
        wait_for(lambda: player.poll() is not None, "the session to end", timeout_s=60)
        _, err = player.communicate(timeout=30)
    assert player.returncode == 0, err
    recorded = mono(recorder.read())

    with open_rendering(WAITS, SessionOptions()) as rendering:
        prompt = rendering.clips.samples(PROMPT) * rendering.voice_gain
        instruction = rendering.clips.samples("Lie down on your back.") * rendering.voice_gain
        stretch = rendering.clips.samples("Stretch your arms.") * rendering.voice_gain
        reminder = answer_sound("reminder", RATE) * rendering.voice_gain
    said_at, said = align(recorded[:resumed_at], instruction)
    assert said > 0.9
    # the prompt follows the instruction and its gap, with the session paused from there
    prompt_at = find_in(recorded, prompt, said_at + instruction.size + RATE // 2, RATE)
    assert align(recorded[prompt_at : prompt_at + prompt.size], prompt)[1] > 0.9
    waiting = recorded[prompt_at + prompt.size : resumed_at]
    windows = waiting[: waiting.size // 4800 * 4800].reshape(-1, 4800)  # 0.1 s each
    loud = [k for k, w in enumerate(windows) if level_dbfs(w) > SILENT_DBFS]
    # nothing but the reminders: at most ~0.7 s of sound per reminder, one every 3 s
    reminders = (resumed_at - prompt_at) / RATE // REMINDER_S
    assert reminders >= 2
    assert 0 < len(loud) <= 8 * reminders
    first = loud[0] * 4800
    assert align(waiting[first - 2400 : first + reminder.size + 2400], reminder)[1] > 0.9
    # play: the session goes on with the next step's instruction, soon after the resume sound
    heard = recorded[resumed_at : resumed_at + 4 * RATE]
    went_on, similar = align(heard, stretch)
    assert similar > 0.9
    assert went_on < RATE  # the device's buffer and the resume sound first


def _status(address: str) -> str:
    try:
        return playerctl(address, "status")
    except subprocess.CalledProcessError:  # "No players found" until it has registered
        return ""


def test_seeking_forward_extends_the_hold_and_its_end_chime_comes_ten_s_later(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """The extend control (`e`, MPRIS seek forward), heard: between the recorded hold-start and
    hold-end chimes lie the hold's seconds and ten more, "Ten more seconds." said in them."""
    require_module("dbus_fast")
    sink = require_audio_server()
    tiny = HERE / "data" / "tiny.toml"
    exported, timeline_path = tmp_path / "tiny.wav", tmp_path / "tiny.json"
    loosen("export", str(tiny), "-o", str(exported), "--timeline", str(timeline_path),
           "--loudness", "off", env=env)  # fmt: skip
    document = json.loads(timeline_path.read_text())
    reference = mono(sf.read(exported, dtype="float32")[0])
    [reach] = [s for s in document["steps"] if s["name"] == "reach" and s["side"] == "right"]
    chime_at = {
        e["cue"]: round(e["start_s"] * RATE)
        for e in document["events"]
        if e["step"] == reach["step"] and e["cue"] in ("hold_start", "hold_end")
    }
    into_hold_s = chime_at["hold_start"] / RATE - reach["start_s"] + 1.0
    recording = tmp_path / "played.wav"
    with (
        private_session_bus() as address,
        Recorder(sink, recording) as recorder,
        playing_on_bus(address, [str(tiny), "--quiet", "--from", "reach"], env) as player,
    ):
        wait_for(lambda: _position_s(address) >= into_hold_s, "a second into the hold")
        playerctl(address, "position", "10+")
        wait_for(
            lambda: playerctl(address, "metadata", "xesam:title") == "Reach, left side",
            "the next step, the hold-end chime heard",
            timeout_s=60,
        )
        playerctl(address, "stop")
        _, err = player.communicate(timeout=30)
    assert player.returncode == 0, err
    recorded = mono(recorder.read())
    begin = round(reach["start_s"] * RATE)  # the step's first 2 s, before the extension
    offset, similarity = align(recorded[: 10 * RATE], reference[begin : begin + 2 * RATE])
    assert similarity > 0.9

    def heard_at(cue: str, extra_frames: int) -> int:
        at = chime_at[cue]
        template = reference[at - RATE // 100 : at + RATE // 5]
        expected = offset + at - round(reach["start_s"] * RATE) + extra_frames
        return find_in(recorded, template, expected - RATE // 100, RATE // 2) + RATE // 100

    start = heard_at("hold_start", 0)
    end = heard_at("hold_end", 10 * RATE)
    scheduled = chime_at["hold_end"] - chime_at["hold_start"]
    assert abs((end - start) - (scheduled + 10 * RATE)) <= 0.02 * RATE
    with open_rendering(tiny, SessionOptions()) as rendering:
        words = rendering.clips.samples("Ten more seconds.") * rendering.voice_gain
    assert align(recorded[start:end], words)[1] > 0.9


def _position_s(address: str) -> float:
    try:
        return float(playerctl(address, "position"))
    except (subprocess.CalledProcessError, ValueError):  # not registered yet
        return -1.0
