"""Ambience in a session: recipes, ducking under speech, fades, stereo, levels and seeking."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from loosen.errors import ScriptError
from loosen.render.rendering import PEAK_CEILING_DBFS, Rendering, render_session
from loosen.script.loading import Mix, Session, load_session, session_from_dict
from loosen.sound.ambience import (
    DUCK_ATTACK_S,
    DUCK_BRIDGE_S,
    DUCK_RELEASE_S,
    FADE_IN_S,
    FADE_OUT_S,
    duck_gain,
    list_ambiences,
    load_ambience,
)
from loosen.sound.cues import load_cue_set
from loosen.sound.recipes import AmbienceRecipe, load_recipe
from loosen.tts import Speech
from tests.fakes import FakeEngine

HERE = Path(__file__).parent.parent
RATE = 48_000
BUNDLED = ("brown-noise", "pink-noise", "surf")
LONG_LINE = "A long line, spoken slowly, so that the dip under the voice can be measured well."
DIP_SESSION = {
    "title": "Dip",
    "steps": [
        {"kind": "pause", "seconds": 6},
        {"kind": "say", "text": LONG_LINE},
        {"kind": "pause", "seconds": 6},
        {"kind": "say", "text": LONG_LINE + " Once more."},
        {"kind": "pause", "seconds": 8},
    ],
}


def rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.asarray(x, np.float64) ** 2)))


def render(session: Session, mix: Mix | None = None, **options: object) -> Rendering:
    return render_session(
        session,
        speech=Speech(FakeEngine(), None),
        cue_set=load_cue_set(session.cues),
        mix=mix,
        **options,  # type: ignore[arg-type]
    )


def samples(rendering: Rendering, **options: int) -> np.ndarray:
    return np.concatenate(list(rendering.blocks(**options)))


@pytest.fixture(scope="module")
def dip() -> Session:
    return session_from_dict(DIP_SESSION)


@pytest.fixture(scope="module")
def dry(dip: Session) -> np.ndarray:
    return samples(render(dip))


@pytest.fixture(scope="module")
def wet(dip: Session) -> tuple[Rendering, np.ndarray]:
    rendering = render(dip, Mix(ambience="brown-noise"))
    return rendering, samples(rendering)


@pytest.fixture(scope="module")
def ambience(dry: np.ndarray, wet: tuple[Rendering, np.ndarray]) -> np.ndarray:
    """The ambience alone, as it sounds in the session: the mix with it minus the mix without."""
    return wet[1].astype(np.float64) - dry


# recipes


def test_the_bundled_ambiences_are_brown_noise_pink_noise_and_surf() -> None:
    assert set(BUNDLED) <= set(list_ambiences())
    for name in BUNDLED:
        recipe = load_ambience(name)
        assert isinstance(recipe, AmbienceRecipe)
        assert recipe.name == name and recipe.description
        assert -36 <= recipe.gain_db <= -24  # far under the voice, which peaks at -3 dBFS
        assert 8 <= recipe.duck_db <= 12


def test_an_unknown_ambience_is_refused_with_the_list_of_ambiences(dip: Session) -> None:
    with pytest.raises(ScriptError, match=r"unknown ambience 'rain' \(ambiences: ") as caught:
        render(dip, Mix(ambience="rain"))
    assert all(name in str(caught.value) for name in BUNDLED)


def test_a_cue_recipe_is_not_an_ambience(dip: Session) -> None:
    with pytest.raises(ScriptError, match=r"'bell-low' is a cue sound, not an ambience \("):
        render(dip, Mix(ambience="bell-low"))


def test_a_scripts_unknown_ambience_names_the_script_and_the_key(tmp_path: Path) -> None:
    script = tmp_path / "rainy.toml"
    script.write_text(
        'title = "Rainy"\n[mix]\nambience = "rain"\n[[steps]]\nkind = "say"\ntext = "Hi."\n',
        encoding="utf-8",
    )
    with pytest.raises(ScriptError) as caught:
        render(load_session(script))
    assert str(caught.value).startswith(f"{script}: mix.ambience: unknown ambience 'rain'")


GOOD = 'kind = "ambience"\nnoise = "pink"\ngain_db = -30\n'


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (GOOD + "colour = 'grey'\n", "key 'colour': unknown key"),
        (GOOD.replace('"pink"', '"white"'), "key 'noise': must be one of 'brown', 'pink'"),
        (GOOD.replace('noise = "pink"\n', ""), "key 'noise': missing required key"),
        (GOOD.replace("-30", "-3"), "key 'gain_db': must be between -60 and -12"),
        (GOOD + "seed = 1.5\n", "key 'seed': must be an integer, not a float"),
        (GOOD + "swell_db = 6\n", "key 'swell_db': needs swell_s"),
        (GOOD + "swell_s = 8\nbright_hz = 300\n", "key 'bright_hz': must be at least lowpass_hz"),
        (GOOD + "highpass_hz = 600\nlowpass_hz = 1000\n", "key 'lowpass_hz': must be at least"),
        (GOOD + "duck_db = 'deep'\n", "key 'duck_db': must be a number, not a string"),
    ],
)
def test_a_bad_ambience_recipe_names_the_file_and_the_key(
    text: str, where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOSEN_SOUNDS_DIR", str(tmp_path))
    path = tmp_path / "rain.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScriptError, match=where) as caught:
        load_ambience("rain")
    assert str(caught.value).startswith(f"{path}: ")


def test_a_users_ambience_recipe_is_listed_and_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOSEN_SOUNDS_DIR", str(tmp_path))
    (tmp_path / "rain.toml").write_text(GOOD, encoding="utf-8")
    assert "rain" in list_ambiences()
    assert load_ambience("rain") == load_recipe(tmp_path / "rain.toml")


# ducking


def test_ducking_is_complete_when_the_voice_starts_and_lets_go_smoothly_after_it() -> None:
    speech = [(RATE * 2, RATE * 3)]
    gain_db = 20 * np.log10(duck_gain(0, 6 * RATE, speech, RATE, 10.0).astype(np.float64))
    attack, release = round(DUCK_ATTACK_S * RATE), round(DUCK_RELEASE_S * RATE)
    assert np.allclose(gain_db[2 * RATE : 3 * RATE], -10.0, atol=1e-4)
    assert np.allclose(gain_db[: 2 * RATE - attack], 0.0, atol=1e-4)
    assert np.allclose(gain_db[3 * RATE + release :], 0.0, atol=1e-4)
    assert -9.5 < gain_db[2 * RATE - attack // 2] < -0.5  # on its way down before the voice
    assert -9.5 < gain_db[3 * RATE + release // 2] < -0.5
    assert np.max(np.abs(np.diff(gain_db))) < 0.01  # no steps: raised-cosine ramps


def test_a_short_silence_between_lines_stays_ducked() -> None:
    gap = round(0.8 * DUCK_BRIDGE_S * RATE)
    speech = [(RATE, 2 * RATE), (2 * RATE + gap, 3 * RATE + gap)]
    gain = duck_gain(0, 5 * RATE, speech, RATE, 10.0)
    assert np.allclose(gain[RATE : 3 * RATE + gap], 10 ** (-10 / 20), rtol=1e-5)


def test_the_ducking_gain_does_not_depend_on_the_block() -> None:
    speech = [(30_000, 50_000), (100_000, 130_000), (150_000, 160_000)]
    whole = duck_gain(0, 250_000, speech, RATE, 10.0)
    for size in (777, 4_096, 40_000):
        pieces = [duck_gain(s, size, speech, RATE, 10.0) for s in range(0, 250_000, size)]
        assert np.array_equal(np.concatenate(pieces)[: whole.size], whole)


# the ambience in a session


def test_there_is_no_ambience_unless_the_mix_asks_for_it(dip: Session, dry: np.ndarray) -> None:
    rendering = render(dip)
    assert rendering.ambience is None
    pause = next(e for e in rendering.timeline.events if e.kind == "pause")
    assert not np.any(dry[pause.start : pause.end])  # silence is digital silence
    assert np.array_equal(dry[:, 0], dry[:, 1])


def test_the_session_ambience_is_stereo_while_speech_stays_centred(
    wet: tuple[Rendering, np.ndarray], ambience: np.ndarray, dry: np.ndarray
) -> None:
    _, mixed = wet
    assert not np.array_equal(mixed[:, 0], mixed[:, 1])
    assert abs(np.corrcoef(ambience[:, 0], ambience[:, 1])[0, 1]) < 0.3
    assert np.array_equal(dry[:, 0], dry[:, 1])


def test_the_ambience_dips_about_10_db_under_speech(
    wet: tuple[Rendering, np.ndarray], ambience: np.ndarray
) -> None:
    rendering, _ = wet
    speech = [e for e in rendering.timeline.events if e.kind == "speech"]
    margin = RATE // 5
    during = np.concatenate([ambience[e.start + margin : e.end - margin] for e in speech])
    between = np.concatenate([ambience[e.end + RATE : e.end + 4 * RATE] for e in speech])
    assert rms_db(between) - rms_db(during) == pytest.approx(10.0, abs=1.5)
    assert rms_db(between) == pytest.approx(load_ambience("brown-noise").gain_db, abs=1.0)


def test_the_ambience_fades_in_and_out_with_the_session(
    wet: tuple[Rendering, np.ndarray], ambience: np.ndarray
) -> None:
    rendering, _ = wet
    total = rendering.timeline.total_frames
    full_db = rms_db(ambience[round(FADE_IN_S * RATE) : 5 * RATE])
    assert rms_db(ambience[: RATE // 2]) < full_db - 20
    assert rms_db(ambience[RATE : 2 * RATE]) < rms_db(ambience[2 * RATE : 3 * RATE]) < full_db
    fade_out = round(FADE_OUT_S * RATE)
    assert rms_db(ambience[total - RATE :]) < full_db - 20
    before_fade = ambience[total - fade_out - 2 * RATE : total - fade_out]
    assert rms_db(before_fade) == pytest.approx(full_db, abs=1.5)
    assert np.max(np.abs(ambience[-100:])) < 1e-5


def test_the_ambience_sounds_the_same_from_any_start_in_any_blocks_and_every_render(
    dip: Session, wet: tuple[Rendering, np.ndarray]
) -> None:
    rendering, whole = wet
    speech = next(e for e in rendering.timeline.events if e.kind == "speech")
    start = speech.start - 1_234  # inside the ducking ramp
    assert np.array_equal(samples(rendering, start_frame=start, block_frames=777), whole[start:])
    assert np.array_equal(samples(rendering, block_frames=48_000), whole)
    again = render(dip, Mix(ambience="brown-noise"))
    assert np.array_equal(samples(again), whole)
    progressive = render(dip, Mix(ambience="brown-noise"), progressive=True)
    assert np.array_equal(samples(progressive, block_frames=1_000), whole)


@pytest.mark.parametrize("name", BUNDLED)
def test_seeking_into_any_ambience_gives_the_same_samples(dip: Session, name: str) -> None:
    rendering = render(dip, Mix(ambience=name))
    whole = samples(rendering)
    start = rendering.timeline.total_frames - 6 * RATE + 17  # into the fade-out
    assert np.array_equal(samples(rendering, start_frame=start, block_frames=2_000), whole[start:])


def test_a_mono_render_keeps_the_ambience_level(dip: Session, ambience: np.ndarray) -> None:
    mono_dry = samples(render(dip, channels=1))
    mono_wet = samples(render(dip, Mix(ambience="brown-noise"), channels=1))
    mono = mono_wet.astype(np.float64) - mono_dry
    assert mono.shape[1] == 1
    assert rms_db(mono) == pytest.approx(rms_db(ambience[:, 0]), abs=1.0)


def test_the_ambience_db_moves_the_ambience_by_that_many_db(
    dip: Session, ambience: np.ndarray, dry: np.ndarray
) -> None:
    quieter = samples(render(dip, Mix(ambience="brown-noise", ambience_db=-6.0)))
    linear = np.abs(dry) < 0.5  # away from the limiter's knee, where the mix is a plain sum
    assert np.allclose((quieter - dry)[linear], ambience[linear] * 10 ** (-6 / 20), atol=1e-6)


def test_the_peak_stays_under_minus_1_dbfs_with_everything_at_plus_12_db(dip: Session) -> None:
    mix = Mix(ambience="surf", ambience_db=12.0, voice_db=12.0, chime_db=12.0)
    loud = samples(render(dip, mix))
    assert np.max(np.abs(loud)) <= 10 ** (PEAK_CEILING_DBFS / 20) + 1e-6
    assert np.max(np.abs(loud)) > 10 ** (-2 / 20)  # it is loud, and bent under the ceiling


def test_a_mix_given_to_render_session_replaces_the_scripts(dip: Session) -> None:
    scripted = replace(dip, mix=Mix(ambience="pink-noise"))
    assert render(scripted).ambience is not None
    assert render(scripted, Mix()).ambience is None
