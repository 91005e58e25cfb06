"""A user's sound recipes are read with a script's protections (size, the scan before parsing,
depth, the size of numbers): a broken one is one line naming its file and the place, `loosen
sounds` lists the others and names it, and an export whose cue it sounds is refused, all in
bounded time and memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from loosen.errors import ScriptError
from loosen.resources import bundled_dir
from loosen.script.limits import MAX_RECIPE_BYTES
from loosen.sound.cues import load_recipe
from tests.bounded import run_bounded

TICK = (bundled_dir("audio_templates") / "tick-wood.toml").read_text(encoding="utf-8")

BROKEN = {  # file -> what its one line says after the file's name
    "deep.toml": (  # 61 kB: the scan refuses it
        TICK + "x = " + "[" * 30_000 + "]" * 30_000 + "\n",
        "line 16, column 29: TOML syntax: arrays or tables nest more than 24 deep",
    ),
    "deeper.toml": (  # 200 kB: the size limit refuses it
        TICK + "x = " + "[" * 100_000 + "]" * 100_000 + "\n",
        "the file is 200,566 bytes; the limit for a sound recipe is 65,536 bytes",
    ),
    "digits.toml": (
        TICK.replace("seed = 1", "seed = 1" + "0" * 5_000),
        "line 11, column 8: TOML syntax: a number has too many digits",
    ),
    "big-number.toml": (
        TICK.replace("q = 18.0", "q = 1" + "0" * 400),
        "key 'q': must be between 0.5 and 50, not a number of about 400 digits",
    ),
    "dotted.toml": (
        TICK + ".".join(["a"] * 30_000) + " = 1\n",
        "line 16, column 1: a dotted key has more than 24 parts; tables nest at most 24 deep",
    ),
    "bell-low.toml": (  # shadows the bundled recipe that sounds hold_end
        "kind = 'bell'\n" + "x = " + "{a = " * 10_000 + "1" + "}" * 10_000 + "\n",
        "line 2, column 125: TOML syntax: arrays or tables nest more than 24 deep",
    ),
}


@pytest.fixture
def user_sounds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "my sounds"
    folder.mkdir()
    for name, (text, _) in BROKEN.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "my-tick.toml").write_text(TICK.replace("Soft, short", "My own"), encoding="utf-8")
    monkeypatch.setenv("LOOSEN_SOUNDS_DIR", str(folder))
    return folder


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_recipe_is_one_line_naming_its_file_and_the_place(
    user_sounds: Path, name: str
) -> None:
    path = user_sounds / name
    with pytest.raises(ScriptError) as caught:
        load_recipe(path)
    assert str(caught.value) == f"{path}: {BROKEN[name][1]}"


def test_loosen_sounds_lists_every_recipe_and_names_each_broken_one(user_sounds: Path) -> None:
    done = run_bounded(["sounds"], memory_mb=250, cpu_s=5)
    assert done.returncode == 2, done.explained()
    listed = dict(line.split(maxsplit=1) for line in done.stdout.splitlines() if line[0] != "#")
    assert listed["my-tick"] == "My own wood tick: countdown."
    assert listed["hold_end"] == "bell-low"  # the cue it sounds is still shown
    assert listed["bowl-deep"].startswith("Deep singing bowl")
    for name in BROKEN:
        assert listed[name.removesuffix(".toml")] == "(cannot be read)"
    errors = sorted(done.stderr.splitlines())
    assert errors == sorted(f"Error: {user_sounds / n}: {said}" for n, (_, said) in BROKEN.items())


def test_an_export_is_refused_when_a_broken_recipe_sounds_one_of_its_cues(
    user_sounds: Path, tmp_path: Path
) -> None:
    script = tmp_path / "quiet.toml"
    script.write_text('title = "Quiet"\n[[steps]]\nkind = "pause"\nseconds = 1\n')
    out = tmp_path / "quiet.wav"
    done = run_bounded(["export", str(script), "-o", str(out)], memory_mb=400, cpu_s=10)
    assert done.returncode == 2, done.explained()
    assert done.stderr == f"Error: {user_sounds / 'bell-low.toml'}: {BROKEN['bell-low.toml'][1]}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my sounds", "quiet.toml"]


def test_a_recipe_of_the_size_limit_is_read_and_one_byte_more_is_refused(
    user_sounds: Path,
) -> None:
    path = user_sounds / "padded.toml"
    path.write_text(TICK.ljust(MAX_RECIPE_BYTES - 1, "#") + "\n", encoding="utf-8")
    assert load_recipe(path).name == "padded"
    path.write_text(TICK.ljust(MAX_RECIPE_BYTES, "#") + "\n", encoding="utf-8")
    with pytest.raises(ScriptError) as caught:
        load_recipe(path)
    assert str(caught.value) == (
        f"{path}: the file is 65,537 bytes; the limit for a sound recipe is 65,536 bytes"
    )
