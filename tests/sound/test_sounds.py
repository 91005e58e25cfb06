"""Cue sounds: checked by features (length, peak, onset, tail, spectrum), with tolerances."""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loosen.errors import ScriptError
from loosen.resources import bundled_dir
from loosen.sound.cues import (
    BREATH_TONE_PEAK_DBFS,
    CUE_KINDS,
    BellRecipe,
    CueSet,
    Recipe,
    SoundFile,
    breath_tone,
    list_recipes,
    load_cue_set,
    load_recipe,
    parse_recipe,
    render_cue,
    synthesize,
)

HERE = Path(__file__).parent.parent
TEMPLATES = bundled_dir("audio_templates")

# Lengths in seconds the pacing of a session relies on.
DURATION_RANGES_S = {
    "hold_start": (1.5, 2.5),
    "hold_end": (1.5, 2.5),
    "switch_sides": (1.5, 2.5),
    "halfway": (0.7, 1.3),
    "countdown": (0.02, 0.15),
    "rep": (0.02, 0.15),
    "session_end": (4.0, 6.0),
    "inhale": (0.2, 0.8),
    "exhale": (0.2, 0.8),
}


def peak_db(audio: np.ndarray) -> float:
    return float(20 * np.log10(np.max(np.abs(audio))))


def onset_s(audio: np.ndarray, sample_rate: int) -> float:
    """Time of the first sample within 40 dB of the peak."""
    loud = np.abs(audio) >= 0.01 * np.max(np.abs(audio))
    return float(np.argmax(loud)) / sample_rate


def centroid_hz(audio: np.ndarray, sample_rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio))
    freqs_hz = np.fft.rfftfreq(len(audio), 1 / sample_rate)
    return float(np.sum(spectrum * freqs_hz) / np.sum(spectrum))


def dominant_hz(audio: np.ndarray, sample_rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio))
    return float(np.fft.rfftfreq(len(audio), 1 / sample_rate)[np.argmax(spectrum)])


def assert_well_formed(audio: np.ndarray, sample_rate: int, gain_db: float) -> None:
    assert audio.dtype == np.float32
    assert audio.ndim == 1
    assert np.all(np.isfinite(audio))
    assert abs(peak_db(audio) - gain_db) <= 0.5
    assert onset_s(audio, sample_rate) <= 0.005
    assert abs(audio[0]) <= 0.01 * np.max(np.abs(audio))  # no click at the start
    assert audio[-1] == 0.0


@pytest.fixture(scope="module")
def default_cues() -> CueSet:
    return load_cue_set()


@pytest.fixture(autouse=True)
def no_user_recipes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    user_dir = tmp_path / "user_sounds"
    monkeypatch.setenv("LOOSEN_SOUNDS_DIR", str(user_dir))
    return user_dir


@pytest.mark.parametrize("sample_rate", [48000, 44100])
@pytest.mark.parametrize("cue", CUE_KINDS)
def test_every_default_cue_renders_well_formed_audio(
    cue: str, sample_rate: int, default_cues: CueSet
) -> None:
    audio = render_cue(cue, default_cues, sample_rate)
    source = default_cues.sources[cue]
    assert_well_formed(audio, sample_rate, source.gain_db)
    low_s, high_s = DURATION_RANGES_S[cue]
    assert low_s <= len(audio) / sample_rate <= high_s


@pytest.mark.parametrize("cue", CUE_KINDS)
def test_default_cues_have_no_dc_and_no_clicks(cue: str, default_cues: CueSet) -> None:
    audio = render_cue(cue, default_cues, 48000).astype(np.float64)
    peak = np.max(np.abs(audio))
    assert abs(np.mean(audio)) <= 0.01 * peak
    # Sample-to-sample jumps stay those of the highest partial, never a step.
    assert np.max(np.abs(np.diff(audio))) <= 0.5 * peak
    assert np.max(np.abs(audio[-10:])) <= 0.01 * peak


def test_chimes_are_louder_than_ticks(default_cues: CueSet) -> None:
    chimes = [default_cues.sources[c].gain_db for c in ("hold_start", "hold_end", "session_end")]
    ticks = [default_cues.sources[c].gain_db for c in ("countdown", "rep")]
    assert all(-12 <= gain_db <= -8 for gain_db in chimes)
    assert max(ticks) < min(chimes)


def test_rendering_is_deterministic() -> None:
    first_set, second_set = load_cue_set(), load_cue_set()
    for cue in CUE_KINDS:
        first = render_cue(cue, first_set, 48000)
        assert first.tobytes() == render_cue(cue, second_set, 48000).tobytes()


def test_inhale_rises_and_exhale_falls(default_cues: CueSet) -> None:
    for cue, sign in (("inhale", 1), ("exhale", -1)):
        audio = render_cue(cue, default_cues, 48000)
        third = len(audio) // 3
        start_hz = dominant_hz(audio[:third], 48000)
        end_hz = dominant_hz(audio[-third:], 48000)
        assert sign * (end_hz - start_hz) > 30


@pytest.mark.parametrize("seconds", [1.5, 4.0, 8.0])
def test_the_breath_tone_lasts_its_breath_and_rises_or_falls_softly(seconds: float) -> None:
    frames = round(seconds * 48000)
    inhale, exhale = breath_tone("inhale", frames, 48000), breath_tone("exhale", frames, 48000)
    for audio, sign in ((inhale, 1), (exhale, -1)):
        assert len(audio) == frames
        assert peak_db(audio) == pytest.approx(BREATH_TONE_PEAK_DBFS, abs=0.5)
        assert audio.dtype == np.float32 and audio[-1] == 0.0
        third = frames // 3
        assert sign * (dominant_hz(audio[-third:], 48000) - dominant_hz(audio[:third], 48000)) > 40
        # slow attack: a tenth of the breath in, the tone is still well under its peak
        assert np.max(np.abs(audio[: frames // 20])) < 0.5 * np.max(np.abs(audio))


def test_a_breath_too_short_for_a_tone_is_silent() -> None:
    assert not np.any(breath_tone("inhale", 100, 48000))
    with pytest.raises(ValueError, match="no breath tone for phase 'hold'"):
        breath_tone("hold", 48000, 48000)


def test_an_ambience_recipe_cannot_sound_a_cue() -> None:
    with pytest.raises(
        ScriptError, match=r"cues\.hold_end: recipe 'surf' is an ambience, not a cue"
    ):
        load_cue_set({"hold_end": "surf"}, script_path=HERE / "session.toml")


def test_rendered_cues_are_cached_and_read_only(default_cues: CueSet) -> None:
    audio = render_cue("hold_start", default_cues, 48000)
    assert render_cue("hold_start", default_cues, 48000) is audio
    assert not audio.flags.writeable


def test_hold_start_hold_end_and_switch_sides_sound_different(default_cues: CueSet) -> None:
    cues = ("hold_start", "hold_end", "switch_sides")
    audio = {cue: render_cue(cue, default_cues, 48000) for cue in cues}
    pitches_hz = sorted(dominant_hz(a, 48000) for a in audio.values())
    centroids_hz = sorted(centroid_hz(a, 48000) for a in audio.values())
    semitone = 2 ** (1 / 12)
    assert all(high / low > semitone for low, high in itertools.pairwise(pitches_hz))
    assert all(high / low > 1.02 for low, high in itertools.pairwise(centroids_hz))


def test_switch_sides_bowl_beats_slowly(default_cues: CueSet) -> None:
    audio = render_cue("switch_sides", default_cues, 48000).astype(np.float64)
    frame_n = 2400  # 50 ms
    rms = np.sqrt(np.mean(audio[: 30 * frame_n].reshape(30, frame_n) ** 2, axis=1))
    ups = np.diff(rms) > 0
    assert ups[5:].any()  # a decaying bell only falls; a beating bowl swells again


def test_rendering_rejects_an_unknown_cue_and_a_silly_sample_rate(default_cues: CueSet) -> None:
    with pytest.raises(ValueError, match="unknown cue kind"):
        render_cue("applause", default_cues, 48000)
    with pytest.raises(ValueError, match="sample_rate"):
        render_cue("rep", default_cues, 100)


def test_every_bundled_recipe_loads_and_is_listed() -> None:
    recipes = list_recipes()
    assert "cues" not in recipes
    assert {"bowl-low", "bell-bright", "tick-wood"} <= set(recipes)
    for name, path in recipes.items():
        assert load_recipe(path).name == name
        assert path.read_text(encoding="utf-8").startswith("# ")  # the format is documented


def test_a_script_can_override_a_cue_by_recipe_name(default_cues: CueSet) -> None:
    cue_set = load_cue_set({"hold_end": "bowl-low"}, script_path=HERE / "session.toml")
    assert cue_set.sources["hold_end"] == load_recipe(TEMPLATES / "bowl-low.toml")
    assert cue_set.sources["hold_start"] == default_cues.sources["hold_start"]


def test_a_script_can_override_a_cue_by_a_wav_file(tmp_path: Path) -> None:
    (tmp_path / "sounds").mkdir()
    rate = 22050
    t_s = np.arange(rate // 2) / rate
    tone = 0.9 * np.sin(2 * np.pi * 300 * t_s) * np.exp(-4 * t_s)
    silence = np.zeros(rate // 10)
    stereo = np.stack([np.concatenate([silence, tone])] * 2, axis=1)
    soundfile.write(tmp_path / "sounds" / "gong.wav", stereo, rate)
    cue_set = load_cue_set({"session_end": "sounds/gong.wav"}, script_path=tmp_path / "s.toml")
    source = cue_set.sources["session_end"]
    assert isinstance(source, SoundFile)
    audio = render_cue("session_end", cue_set, 48000)
    assert_well_formed(audio, 48000, load_cue_set().sources["session_end"].gain_db)
    assert len(audio) / 48000 == pytest.approx(0.5, abs=0.02)  # leading silence trimmed
    assert dominant_hz(audio, 48000) == pytest.approx(300, abs=5)
    assert len(render_cue("session_end", cue_set, rate)) == pytest.approx(rate // 2, abs=rate // 50)


def test_a_user_recipe_can_be_listed_and_used(no_user_recipes: Path) -> None:
    no_user_recipes.mkdir()
    text = (TEMPLATES / "tick-wood.toml").read_text(encoding="utf-8")
    (no_user_recipes / "my-tick.toml").write_text(text.replace("1250.0", "2000.0"), "utf-8")
    assert list_recipes()["my-tick"] == no_user_recipes / "my-tick.toml"
    source = load_cue_set({"rep": "my-tick"}).sources["rep"]
    assert isinstance(source, Recipe)
    assert source.name == "my-tick"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"applause": "bell-low"}, "cues.applause: unknown cue kind 'applause'"),
        ({"hold_end": "no-such-bell"}, "cues.hold_end: unknown recipe 'no-such-bell' \\(recipes:"),
        ({"rep": "missing.wav"}, "cues.rep: sound file .* does not exist"),
        ({"rep": "sounds/"}, "cues.rep: sound file .* not a regular file"),
        ({"rep": "notes.wav"}, "cues.rep: sound file .* cannot be read"),
        ({"rep": "huge.wav"}, "cues.rep: sound file .* larger than 10 MB"),
        ({"rep": "long.flac"}, "cues.rep: sound file .* lasts 120 s; a cue lasts at most 60 s"),
        ({"rep": "/dev/zero"}, "cues.rep: sound file .* not a regular file"),
        ({"rep": "pipe.wav"}, "cues.rep: sound file .* not a regular file"),
        ({"rep": 3}, "cues.rep: must be a recipe name or a sound file path"),
    ],
)
def test_bad_overrides_name_the_script_and_the_cue(
    overrides: dict[str, Any], message: str, tmp_path: Path
) -> None:
    (tmp_path / "sounds").mkdir()
    (tmp_path / "notes.wav").write_text("not audio", encoding="utf-8")
    with (tmp_path / "huge.wav").open("wb") as huge:
        huge.truncate(11 * 2**20)
    silence = np.zeros((120 * 8000, 1), np.float32)  # two minutes, compressed to almost nothing
    soundfile.write(tmp_path / "long.flac", silence, 8000)
    os.mkfifo(tmp_path / "pipe.wav")  # reading it would block forever
    script = tmp_path / "session.toml"
    with pytest.raises(ScriptError, match=message) as caught:
        load_cue_set(overrides, script_path=script)
    assert str(caught.value).startswith(f"{script}: cues.")
    assert "\n" not in str(caught.value)


BELL = """\
kind = "bell"
fundamental_hz = 440
duration_s = 1.0
gain_db = -10
[[partials]]
ratio = 1.0
decay_s = 1.0
"""


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("colour = 'gold'\n" + BELL, "bad-bell.toml: key 'colour': unknown key"),
        (BELL + "colour = 'gold'\n", "partial 1, key 'colour': unknown key"),
        (BELL.replace("decay_s = 1.0", "decay_s = -1.0"), "partial 1, key 'decay_s': must be"),
        (BELL.replace("duration_s = 1.0", "duration_s = 'long'"), "key 'duration_s': must be a"),
        (BELL.replace("gain_db = -10", "gain_db = true"), "key 'gain_db': must be a number"),
        (BELL.replace("gain_db = -10", "gain_db = 3"), "key 'gain_db': must be between"),
        (BELL.replace('"bell"', '"gong"'), "key 'kind': must be one of"),
        (BELL.replace("fundamental_hz = 440\n", ""), "key 'fundamental_hz': missing"),
        (
            BELL.replace("440", "1000").replace("ratio = 1.0", "ratio = 19.0"),
            "partial 1, key 'ratio': puts the partial at 19000 Hz",
        ),
        ("fade_ms = 990\nattack_ms = 20\n" + BELL, "key 'fade_ms': attack_ms \\+ fade_ms"),
        (
            "kind = 'tone'\nstart_hz = 400\nend_hz = 300\nduration_s = 0.5\ngain_db = -12\n"
            "harmonics_db = [-6, 3]\n",
            "key 'harmonics_db': must have at most 8 entries",
        ),
        (
            "kind = 'tick'\ncentre_hz = 900\nq = 4\nduration_s = 0.1\ngain_db = -12\nseed = 1.5\n",
            "key 'seed': must be an integer, not a float",
        ),
        ("kind = 'bell' = 3\n", "line 1, column 15: TOML syntax: Expected newline"),
    ],
)
def test_bad_recipe_files_name_the_file_and_the_key(text: str, where: str, tmp_path: Path) -> None:
    path = tmp_path / "bad-bell.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScriptError, match=where) as caught:
        load_recipe(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_a_broken_user_recipe_is_reported_when_a_script_uses_it(no_user_recipes: Path) -> None:
    no_user_recipes.mkdir()
    (no_user_recipes / "odd.toml").write_text("colour = 1\n" + BELL, encoding="utf-8")
    with pytest.raises(ScriptError, match=r"odd\.toml: key 'colour': unknown key"):
        load_cue_set({"hold_start": "odd"})


def _partial() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"ratio": st.floats(0.5, 8.0), "decay_s": st.floats(0.01, 60.0)},
        optional={"gain_db": st.floats(-60.0, 0.0), "detune_hz": st.floats(0.0, 20.0)},
    )


def _common(kind: str) -> dict[str, st.SearchStrategy[Any]]:
    return {
        "kind": st.just(kind),
        "duration_s": st.floats(0.05, 1.5),
        "gain_db": st.floats(-40.0, -1.0),
        "attack_ms": st.floats(0.1, 50.0),
    }


RECIPE_TABLES = st.one_of(
    st.fixed_dictionaries(
        _common("bell")
        | {
            "fundamental_hz": st.floats(40.0, 2000.0),
            "partials": st.lists(_partial(), min_size=1, max_size=6),
        }
    ),
    st.fixed_dictionaries(
        _common("tick") | {"centre_hz": st.floats(100.0, 8000.0), "q": st.floats(0.5, 50.0)},
        optional={"noise_ms": st.floats(0.1, 20.0), "seed": st.integers(0, 2**32 - 1)},
    ),
    st.fixed_dictionaries(
        _common("tone") | {"start_hz": st.floats(40.0, 4000.0), "end_hz": st.floats(40.0, 4000.0)},
        optional={"harmonics_db": st.lists(st.floats(-60.0, 0.0), max_size=8)},
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=RECIPE_TABLES, sample_rate=st.sampled_from([44100, 48000]))
def test_any_valid_recipe_synthesizes_clean_audio(table: dict[str, Any], sample_rate: int) -> None:
    table["attack_ms"] = min(table["attack_ms"], 250 * table["duration_s"])
    recipe = parse_recipe(table, name="prop")
    audio = synthesize(recipe, sample_rate)
    assert len(audio) == round(recipe.duration_s * sample_rate)
    assert_well_formed(audio, sample_rate, recipe.gain_db)
    if isinstance(recipe, BellRecipe):
        assert len(recipe.partials) == len(table["partials"])


@pytest.mark.parametrize("rate", [8_000, 22_050, 48_000])
def test_a_bell_partial_is_the_damped_sine_it_stands_for(rate: int) -> None:
    from loosen.sound.cues import _damped_sine

    n = round(3.3 * rate)  # not a whole number of blocks
    t_s = np.arange(n) / rate
    direct = 0.7 * np.exp(-np.log(1000.0) * t_s / 1.7) * np.sin(2 * np.pi * 2637.3 * t_s)
    assert np.abs(_damped_sine(0.7, 2637.3, 1.7, n, rate) - direct).max() < 1e-9
