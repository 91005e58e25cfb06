"""The pyttsx3 engine really speaks, one clip per text, quietly, with the voice and rate asked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from loosen.errors import BadInputError, SpeechError
from loosen.tts import ENGINE_NAMES, Clip, SpeechEngine, open_engine
from loosen.tts.espeak_loader import friendly_voice_id
from loosen.tts.pyttsx3_engine import Pyttsx3Engine

SRC = Path(__file__).parent.parent.parent / "src"

SHORT = "Rest."
MEDIUM = "Breathe in slowly through your nose."
LONG = (
    "Now tense the muscles of your right hand, make a tight fist, hold it, "
    "and notice the tension in your fingers, your palm and your wrist."
)


def assert_is_speech(clip: Clip) -> None:
    assert clip.samples.dtype == np.float32
    assert clip.samples.ndim == 1
    assert clip.n_frames > 0.2 * clip.sample_rate
    assert float(np.abs(clip.samples).max()) > 0.05
    assert float(np.abs(clip.samples).max()) <= 1.0


def test_the_engine_follows_the_speech_engine_protocol(real_engine: Pyttsx3Engine) -> None:
    assert isinstance(real_engine, SpeechEngine)
    assert real_engine.name == "pyttsx3"
    assert real_engine.voice == "en-us"
    assert real_engine.rate_wpm == 150


def test_several_texts_in_one_call_each_get_their_own_clip_in_order(
    real_engine: Pyttsx3Engine,
) -> None:
    texts = [MEDIUM, SHORT, LONG, SHORT, MEDIUM]
    results = list(real_engine.synthesize(texts))
    assert [text for text, _ in results] == texts
    for _, clip in results:
        assert_is_speech(clip)
        assert clip.sample_rate == 22050
    frames = {text: clip.n_frames for text, clip in results}
    assert frames[SHORT] < frames[MEDIUM] < frames[LONG]
    # The same text spoken twice matches itself (espeak-ng may vary by a few samples).
    assert results[1][1].n_frames == pytest.approx(results[3][1].n_frames, rel=0.02)
    assert results[0][1].n_frames == pytest.approx(results[4][1].n_frames, rel=0.02)


def test_many_texts_back_to_back_keep_their_identity(real_engine: Pyttsx3Engine) -> None:
    # The known pyttsx3 loop bug loses a file and writes the next one twice: lengths would shift.
    texts = [f"{word} {i}." for i in range(12) for word in ("Relax", "Let your shoulders drop")]
    forward = dict(real_engine.synthesize(texts))
    backward = dict(real_engine.synthesize(texts[::-1]))
    for text in texts:
        assert forward[text].n_frames == pytest.approx(backward[text].n_frames, rel=0.03), text
        assert_is_speech(forward[text])


def test_a_blank_text_gives_an_empty_clip(real_engine: Pyttsx3Engine) -> None:
    [(text, clip)] = real_engine.synthesize(["   "])
    assert text == "   "
    assert clip.n_frames == 0


def test_nothing_is_printed_on_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    with open_engine() as engine:
        clips = [clip for _, clip in engine.synthesize([SHORT, MEDIUM])]
    assert all(clip.n_frames > 0 for clip in clips)
    captured = capfd.readouterr()
    assert captured.out == ""
    assert "Audio saved" not in captured.err


def test_a_slower_rate_gives_a_longer_clip() -> None:
    with open_engine(rate_wpm=100) as slow, open_engine(rate_wpm=300) as fast:
        [(_, slow_clip)] = slow.synthesize([LONG])
        [(_, fast_clip)] = fast.synthesize([LONG])
    assert slow_clip.n_frames > 2 * fast_clip.n_frames


@pytest.mark.parametrize("rate_wpm", [79, 451, 0, -150])
def test_a_rate_out_of_range_is_rejected(rate_wpm: int) -> None:
    with pytest.raises(BadInputError, match="80 to 450 wpm"):
        open_engine(rate_wpm=rate_wpm)


def test_voices_are_listed_with_the_default_english_voice(real_engine: Pyttsx3Engine) -> None:
    voices = real_engine.voices()
    assert len(voices) > 50
    by_id = {voice.id: voice for voice in voices}
    assert by_id["en-us"].name == "English (America)"
    assert by_id["en-us"].languages[0] == "en-us"


def test_the_voice_list_matches_what_espeak_itself_reports(real_engine: Pyttsx3Engine) -> None:
    # Voices are read from espeak-ng's data files to keep `loosen voices` cheap; the library
    # (asked through the worker) must agree on ids, names and first languages.
    from_files = {(v.id, v.name, v.languages[0], v.gender) for v in real_engine.voices()}
    from_library, variants = real_engine.driver_voices()
    assert {(v.id, v.name.strip(), v.languages[0], v.gender) for v in from_library} == from_files
    assert "f3" in variants


@pytest.mark.parametrize(
    ("asked", "resolved"),
    [("en-us", "en-us"), ("EN-US", "en-us"), ("gmw/en-US", "en-us"), ("en-us+f3", "en-us+f3")],
)
def test_voice_ids_and_espeak_variants_are_accepted(asked: str, resolved: str) -> None:
    with open_engine(voice=asked) as engine:
        assert engine.voice == resolved
        assert friendly_voice_id(resolved.split("+")[0]) == resolved.split("+")[0]


def test_a_variant_voice_speaks() -> None:
    with open_engine(voice="en-us+f3") as engine:
        [(_, clip)] = engine.synthesize([SHORT])
    assert_is_speech(clip)


def test_an_unknown_voice_error_lists_the_available_voices() -> None:
    with pytest.raises(BadInputError) as raised:
        open_engine(voice="en-xx")
    message = str(raised.value)
    assert message.startswith("unknown voice 'en-xx' for engine pyttsx3; available: ")
    assert "en-us" in message
    assert "loosen voices" in message
    assert "\n" not in message


def test_an_unknown_variant_error_lists_the_variants() -> None:
    with pytest.raises(BadInputError, match=r"unknown voice variant 'zz9'.*f3"):
        open_engine(voice="en-us+zz9")


def test_an_unknown_engine_error_lists_the_engines() -> None:
    with pytest.raises(BadInputError) as raised:
        open_engine("festival")
    assert ENGINE_NAMES == ("pyttsx3", "espeak", "piper")
    assert (
        str(raised.value)
        == f"unknown speech engine 'festival'; available: {', '.join(ENGINE_NAMES)}"
    )


def test_describe_names_the_backend_voice_and_rate(real_engine: Pyttsx3Engine) -> None:
    line = real_engine.describe()
    assert line.startswith("pyttsx3 (espeak-ng 1.52")
    assert line.endswith(", voice en-us, 150 wpm")


def test_a_closed_engine_refuses_to_speak() -> None:
    engine = open_engine()
    engine.close()
    engine.close()
    with pytest.raises(SpeechError, match="closed"):
        list(engine.synthesize([SHORT]))


def test_a_resting_engine_stops_its_worker_and_starts_another_for_the_next_text() -> None:
    with Pyttsx3Engine() as engine:
        [(_, first)] = engine.synthesize(["Rest."])
        pid = engine.worker_pid
        assert pid is not None
        engine.rest()
        assert engine.worker_pid is None
        with pytest.raises(ProcessLookupError):  # stopped and reaped
            os.kill(pid, 0)
        [(_, again)] = engine.synthesize(["Rest, then more."])
        assert engine.workers_started == 2
    with Pyttsx3Engine() as unbroken:
        expected = [clip for _, clip in unbroken.synthesize(["Rest.", "Rest, then more."])]
    # espeak-ng carries state from text to text, but each text is spoken from the worker's
    # start-up state: the new worker says the next exactly as the old one would have
    assert [first, again] == expected


def test_the_worker_process_starts_without_numpy_and_hands_espeak_samples_over_as_pcm(
    tmp_path: Path,
) -> None:
    import soundfile

    from loosen.tts._synth_pyttsx3 import read_speech as _read_speech

    assert_imports_leave_out("loosen.tts._worker", "numpy")
    assert_imports_leave_out("loosen.tts._synth_pyttsx3", "numpy")
    assert_imports_leave_out("loosen.tts._synth_espeak", "numpy")
    pcm = (np.arange(-300, 300, dtype=np.int16) * 50)[:, None]
    soundfile.write(tmp_path / "mono.wav", pcm, 22050, subtype="PCM_16")
    data, rate = _read_speech(tmp_path / "mono.wav")
    assert rate == 22050 and data == pcm.astype("<i2").tobytes()
    stereo = np.repeat(pcm.astype(np.float32) / 32768, 2, axis=1) * [1.0, 0.5]
    soundfile.write(tmp_path / "stereo.wav", stereo, 16000, subtype="FLOAT")
    mixed, rate = _read_speech(tmp_path / "stereo.wav")
    assert rate == 16000 and np.allclose(mixed, stereo.mean(axis=1), atol=1e-7)


def test_importing_the_package_does_not_import_pyttsx3() -> None:
    assert_imports_leave_out("loosen.tts", "pyttsx3")


def assert_imports_leave_out(module: str, left_out: str) -> None:
    """Importing ``module`` in a fresh interpreter does not import ``left_out``."""
    code = f"import sys, {module}; assert {left_out!r} not in sys.modules; print('ok')"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_listing_voices_starts_no_worker_process() -> None:
    with open_engine() as engine:
        assert engine.voices()
        assert isinstance(engine, Pyttsx3Engine)
        assert engine.workers_started == 0


def test_the_default_voice_opens_without_looking_for_espeak(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a session whose speech is all cached starts playing without touching espeak-ng
    def refuse() -> None:
        raise AssertionError("espeak-ng was looked for")

    monkeypatch.setattr("loosen.tts.pyttsx3_engine.plan_espeak", refuse)
    monkeypatch.setattr("loosen.tts.pyttsx3_engine.list_espeak_voices", refuse)
    with open_engine() as engine:
        assert engine.voice == "en-us"
