"""A cue's own sound file is held to what its header promises (channels, sample rate, length)
before anything is decoded, and read block by block into mono float32 at the output rate: a
small file that would decode to gigabytes is refused at once, one at the limits plays in
bounded memory, and a silent or damaged one names the script, its [cues] key and the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from loosen.errors import ScriptError
from loosen.script.limits import MAX_SOUND_FILE_CHANNELS, MAX_SOUND_FILE_S, SOUND_FILE_RATES_HZ
from loosen.sound.cues import load_cue_set, render_cue
from tests.bounded import run_bounded


def write_cue(path: Path, channels: int, rate_hz: int, seconds: float) -> Path:
    """A FLAC (or WAV) of a second of a decaying tone in its first channel, then silence, for
    ``seconds`` in all: what a gong sample looks like, and it compresses to little."""
    frames = round(seconds * rate_hz)
    ring = np.arange(min(frames, rate_hz))
    tone = (8000 * np.sin(ring * 2 * np.pi * 440 / rate_hz) * np.exp(-3 * ring / rate_hz)).astype(
        np.int16
    )
    with soundfile.SoundFile(
        path, "w", samplerate=rate_hz, channels=channels, subtype="PCM_16",
        **({"compression_level": 0.0} if path.suffix == ".flac" else {}),
    ) as out:  # fmt: skip
        block = np.zeros((len(tone), channels), np.int16)
        block[:, 0] = tone
        out.write(block)
        silence = np.zeros((rate_hz, channels), np.int16)
        for start in range(len(tone), frames, rate_hz):
            out.write(silence[: frames - start])
    return path


def session_with_cue(folder: Path, sound: str) -> Path:
    script = folder / "session.toml"
    script.write_text(
        f'title = "Cue"\n[cues]\nsession_end = "{sound}"\n[[steps]]\nkind = "pause"\nseconds = 1\n'
    )
    return script


@pytest.fixture(scope="module")
def sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cue sounds")
    # the file of the report: 0.8 MB, 725 MB of float32 samples once decoded
    write_cue(folder / "eight-channels-384k.flac", 8, 384_000, 59)
    high_hz = SOUND_FILE_RATES_HZ[1]
    write_cue(folder / "at-the-limits.flac", MAX_SOUND_FILE_CHANNELS, high_hz, MAX_SOUND_FILE_S)
    return folder


# ---------------------------------------------------------------- through the command line
@pytest.mark.parametrize("command", ["export", "check"])
def test_a_small_file_that_would_decode_to_gigabytes_is_refused_from_its_header(
    sounds: Path, tmp_path: Path, command: str
) -> None:
    sound = sounds / "eight-channels-384k.flac"
    assert sound.stat().st_size < 1_000_000
    script = session_with_cue(tmp_path, str(sound))
    done = run_bounded([command, str(script)], memory_mb=300, cpu_s=5, cwd=tmp_path)
    assert done.returncode == 2, done.explained()
    assert done.stderr == (
        f"Error: {script}: cues.session_end: sound file '{sound}' is sampled at 384000 Hz; a "
        "cue is sampled at 8000 to 192000 Hz\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["session.toml"]


@pytest.mark.parametrize("command", ["export", "check"])
def test_a_file_at_every_limit_at_once_plays_in_bounded_memory(
    sounds: Path, tmp_path: Path, command: str
) -> None:
    # 8 channels x 192 kHz x 60 s: 92 M samples, 369 MB in float32 had it been read whole
    script = session_with_cue(tmp_path, str(sounds / "at-the-limits.flac"))
    done = run_bounded([command, str(script)], memory_mb=300, cpu_s=15, cwd=tmp_path)
    assert done.returncode == 0, done.explained()


def test_a_silent_sound_file_names_the_script_its_key_and_the_file(tmp_path: Path) -> None:
    soundfile.write(tmp_path / "silent.wav", np.zeros((4800, 2), np.float32), 48_000)
    script = session_with_cue(tmp_path, "silent.wav")
    done = run_bounded(["export", str(script)], memory_mb=300, cpu_s=10, cwd=tmp_path)
    assert done.returncode == 2, done.explained()
    assert done.stderr == (
        f"Error: {script}: cues.session_end: sound file '{tmp_path / 'silent.wav'}' is silent "
        "or not finite\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["session.toml", "silent.wav"]


def test_a_damaged_sound_file_names_the_script_its_key_and_the_file(tmp_path: Path) -> None:
    sound = write_cue(tmp_path / "cut.flac", 2, 48_000, 3)
    whole = sound.read_bytes()
    sound.write_bytes(whole[: len(whole) // 2])  # its header still says 3 s
    script = session_with_cue(tmp_path, "cut.flac")
    done = run_bounded(["export", str(script)], memory_mb=300, cpu_s=10, cwd=tmp_path)
    assert done.returncode == 2, done.explained()
    assert done.stderr.startswith(
        f"Error: {script}: cues.session_end: sound file '{sound}' cannot be read: "
    ), done.stderr
    assert done.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.flac", "session.toml"]


# ---------------------------------------------------------------- the header's limits
@pytest.mark.parametrize(
    ("channels", "rate_hz", "seconds", "problem"),
    [
        (MAX_SOUND_FILE_CHANNELS + 1, 8_000, 0.1, "has 9 channels; a cue has at most 8"),
        (1, 7_999, 0.1, "is sampled at 7999 Hz; a cue is sampled at 8000 to 192000 Hz"),
        (1, 192_001, 0.1, "is sampled at 192001 Hz; a cue is sampled at 8000 to 192000 Hz"),
        (1, 8_000, MAX_SOUND_FILE_S + 1 / 8_000, "lasts 60 s; a cue lasts at most 60 s"),
    ],
)
def test_one_past_each_limit_of_the_header_is_refused_and_the_limit_itself_is_not(
    tmp_path: Path, channels: int, rate_hz: int, seconds: float, problem: str
) -> None:
    script = tmp_path / "session.toml"
    past = write_cue(tmp_path / "past.wav", channels, rate_hz, seconds)
    with pytest.raises(ScriptError) as caught:
        load_cue_set({"rep": "past.wav"}, script_path=script)
    assert str(caught.value) == f"{script}: cues.rep: sound file '{past}' {problem}"
    at_limit = write_cue(
        tmp_path / "at.wav",
        min(channels, MAX_SOUND_FILE_CHANNELS),
        min(max(rate_hz, 8_000), 192_000),
        min(seconds, MAX_SOUND_FILE_S),
    )
    assert load_cue_set({"rep": at_limit.name}, script_path=script).sources["rep"]


def test_a_file_swapped_after_loading_is_checked_again_before_it_is_read(
    sounds: Path, tmp_path: Path
) -> None:
    sound = write_cue(tmp_path / "gong.flac", 1, 48_000, 1)
    cue_set = load_cue_set({"session_end": "gong.flac"}, script_path=tmp_path / "s.toml")
    sound.write_bytes((sounds / "eight-channels-384k.flac").read_bytes())
    with pytest.raises(ScriptError, match=r"cues\.session_end: sound file .* 384000 Hz"):
        render_cue("session_end", cue_set, 48_000)


def test_a_sound_file_is_read_as_mono_float32_at_the_output_rate(tmp_path: Path) -> None:
    write_cue(tmp_path / "stereo.flac", 2, 44_100, 1.5)
    cue_set = load_cue_set({"session_end": "stereo.flac"}, script_path=tmp_path / "s.toml")
    audio = render_cue("session_end", cue_set, 48_000)
    assert (audio.dtype, audio.ndim) == (np.float32, 1)
    assert len(audio) == pytest.approx(48_000, rel=0.01)  # the ringing second; silence trimmed
    assert audio[-1] == 0.0
