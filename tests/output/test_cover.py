"""The cover: a calm square JPEG with the title, the same for the same title, the title inside
its margins however long; embedded in every format but WAV where players look for it (read
back by ffprobe as an attached picture and by mutagen, bytes for bytes), split parts too;
``--cover off`` embeds none, ``--cover FILE`` the user's PNG, and a missing file is refused in
one line before any work."""

from __future__ import annotations

import base64
import io
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import mutagen
import pytest
from mutagen.flac import Picture
from PIL import Image
from typer.testing import CliRunner

from loosen import session_cover
from loosen.cli import app
from loosen.errors import BadValueError
from loosen.output.cover import (
    COVER_MIME,
    MAX_COVER_BYTES,
    generated_cover,
    layout_text,
    margin_px,
    read_cover,
    render_cover,
)
from loosen.output.export import export_blocks
from loosen.output.split import export_split
from loosen.plan.chapters import chapters_from, tags_for
from loosen.render.rendering import Rendering, render_session
from loosen.script.loading import load_session
from loosen.sound.cues import load_cue_set
from loosen.tts import Speech
from tests.fakes import FakeEngine
from tests.tools import require

HERE = Path(__file__).parent
TINY = HERE.parent / "data" / "tiny.toml"
LONG_TITLE = (
    "A gentle evening wind-down for the shoulders, the neck, the hips and the lower back, "
    "with slow breaths between stretches"
)
WITH_COVER = [".flac", ".ogg", ".mp3", ".opus", ".m4a", ".m4b"]
runner = CliRunner()


def picture(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_a_cover_is_a_baseline_rgb_jpeg_1400_pixels_square() -> None:
    image = picture(render_cover("Back loosening"))
    assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (1400, 1400))
    assert "progressive" not in image.info and "progression" not in image.info
    assert Image.MIME["JPEG"] == COVER_MIME


def test_the_same_title_gives_the_same_bytes_and_another_title_others() -> None:
    assert render_cover("Back loosening") == render_cover("Back loosening")
    assert render_cover("Back loosening") != render_cover("Evening stretch")
    assert render_cover("Back loosening") != render_cover("Back loosening", "pmr")


@pytest.mark.parametrize("title", ["Relax", LONG_TITLE, "x" * 120, "Évening stretch 🌙 — Straße"])
def test_every_line_of_text_lies_inside_the_margins(title: str) -> None:
    size = 1400
    edge = margin_px(size)
    lines = layout_text(title, size_px=size)
    for line in lines:
        left, top, right, bottom = line.box
        assert edge <= left < right <= size - edge and edge <= top < bottom <= size - edge, line


def test_a_long_title_wraps_onto_several_smaller_lines_and_keeps_every_word() -> None:
    assert len(LONG_TITLE) == 120
    *long_lines, subtitle = layout_text(LONG_TITLE)
    (one_word, _) = layout_text("Relax")
    assert len(long_lines) > 2 and subtitle.text == "loosen"
    assert " ".join(line.text for line in long_lines) == LONG_TITLE
    assert long_lines[0].font_px < one_word.font_px
    assert subtitle.font_px < long_lines[0].font_px


def test_letters_the_font_lacks_are_drawn_by_their_base_letter() -> None:
    *title, _ = layout_text("Évening stretch 🌙 — Straße")
    assert " ".join(line.text for line in title) == "Evening stretch - Strasse"


def test_the_front_door_gives_the_cover_an_export_embeds() -> None:
    assert session_cover(TINY) == render_cover("Tiny")
    assert session_cover(str(TINY)) == generated_cover("Tiny").data


# --- in the files ------------------------------------------------------------------------------


def probed_pictures(path: Path) -> list[dict]:
    run = subprocess.run(
        [require("ffprobe"), "-v", "error", "-show_streams", "-show_chapters", "-of", "json",
         str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    streams = json.loads(run.stdout)["streams"]
    return [s for s in streams if s.get("disposition", {}).get("attached_pic")]


def embedded(path: Path) -> list[tuple[bytes, str]]:
    """The front covers mutagen finds in ``path``, with their MIME types."""
    audio = mutagen.File(path)
    suffix = path.suffix
    if suffix == ".mp3":
        return [(f.data, f.mime) for f in audio.tags.getall("APIC") if f.type == 3]
    if suffix == ".flac":
        return [(p.data, p.mime) for p in audio.pictures if p.type == 3]
    if suffix in (".ogg", ".opus"):
        blocks = [
            Picture(base64.b64decode(v)) for v in audio.tags.get("METADATA_BLOCK_PICTURE", [])
        ]
        return [(p.data, p.mime) for p in blocks if p.type == 3]
    if suffix in (".m4a", ".m4b"):
        mimes = {mutagen.mp4.MP4Cover.FORMAT_JPEG: "image/jpeg", 14: "image/png"}
        return [(bytes(c), mimes[c.imageformat]) for c in audio.tags.get("covr", [])]
    return []


@pytest.fixture(scope="module")
def tiny_rendering() -> Rendering:
    session = load_session(TINY)
    return render_session(
        session, speech=Speech(FakeEngine(), None), cue_set=load_cue_set(session.cues)
    )


@pytest.fixture(scope="module")
def with_covers(tmp_path_factory: pytest.TempPathFactory, tiny_rendering: Rendering) -> Path:
    folder = tmp_path_factory.mktemp("covers")
    tags = tags_for("Tiny", TINY, generated_cover("Tiny"))
    for extension in [".wav", *WITH_COVER]:
        export_blocks(
            tiny_rendering.blocks(), folder / f"tiny{extension}", sample_rate=48_000,
            channels=tiny_rendering.channels, chapters=chapters_from(tiny_rendering.timeline),
            tags=tags,
        )  # fmt: skip
    return folder


@pytest.mark.parametrize("extension", WITH_COVER)
def test_ffprobe_and_mutagen_find_the_generated_cover_and_the_chapters_stay(
    with_covers: Path, extension: str
) -> None:
    path = with_covers / f"tiny{extension}"
    (stream,) = probed_pictures(path)
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("mjpeg", 1400, 1400)
    assert embedded(path) == [(render_cover("Tiny"), "image/jpeg")]
    run = subprocess.run(
        [require("ffprobe"), "-v", "error", "-show_chapters", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert len(json.loads(run.stdout)["chapters"]) == 6


def test_a_wav_carries_no_cover(with_covers: Path) -> None:
    assert probed_pictures(with_covers / "tiny.wav") == []


def test_an_mp3_with_a_cover_still_has_its_length_to_the_sample(
    with_covers: Path, tiny_rendering: Rendering
) -> None:
    frames = mutagen.File(with_covers / "tiny.mp3").info.length * 48_000
    assert round(frames) == tiny_rendering.timeline.total_frames


def test_every_split_part_carries_the_cover(tmp_path: Path, tiny_rendering: Rendering) -> None:
    tags = tags_for("Tiny", TINY, generated_cover("Tiny"))
    paths = export_split(tiny_rendering, tmp_path / "parts", extension=".mp3", tags=tags)
    assert all(embedded(path) == [(render_cover("Tiny"), "image/jpeg")] for path in paths)


# --- through the command line ------------------------------------------------------------------


def export(*args: str | Path) -> None:
    result = runner.invoke(app, ["export", str(TINY), "--loudness", "off", *map(str, args)])
    assert result.exit_code == 0, result.stderr


def test_an_export_embeds_the_sessions_generated_cover_by_default(tmp_path: Path) -> None:
    export("-o", tmp_path / "tiny.m4b")
    assert embedded(tmp_path / "tiny.m4b") == [(session_cover(TINY), "image/jpeg")]


def test_cover_off_embeds_none(tmp_path: Path) -> None:
    export("-o", tmp_path / "tiny.mp3", "--cover", "off")
    assert embedded(tmp_path / "tiny.mp3") == []
    assert probed_pictures(tmp_path / "tiny.mp3") == []


@pytest.mark.parametrize("extension", [".flac", ".opus", ".m4a"])
def test_cover_file_embeds_that_png_as_it_is(tmp_path: Path, extension: str) -> None:
    png = tmp_path / "my.png"
    Image.new("RGB", (600, 600), (90, 120, 140)).save(png)
    export("-o", tmp_path / f"tiny{extension}", "--cover", png)
    assert embedded(tmp_path / f"tiny{extension}") == [(png.read_bytes(), "image/png")]
    (stream,) = probed_pictures(tmp_path / f"tiny{extension}")
    assert (stream["codec_name"], stream["width"]) == ("png", 600)


def test_a_missing_cover_file_is_refused_in_one_line_naming_it_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "missing.png"
    result = runner.invoke(app, ["export", str(TINY), "-o", str(tmp_path / "t.mp3"),
                                 "--cover", str(missing)])  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and str(missing) in result.stderr
    assert list(tmp_path.iterdir()) == []


def make_gif(path: Path) -> None:
    Image.new("RGB", (8, 8)).save(path, "GIF")


def make_text(path: Path) -> None:
    path.write_text("not a picture")


def make_huge(path: Path) -> None:
    path.write_bytes(bytes(MAX_COVER_BYTES + 1))


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (make_gif, "is a GIF picture; use a JPEG or PNG"),
        (make_text, "is not a JPEG or PNG picture"),
        (make_huge, "the limit for a cover is"),
    ],
)
def test_a_file_that_is_no_small_jpeg_or_png_is_refused_in_one_line_naming_it(
    tmp_path: Path, make: Callable[[Path], None], reason: str
) -> None:
    path = tmp_path / "cover.img"
    make(path)
    with pytest.raises(BadValueError, match=reason) as refused:
        read_cover(path)
    assert str(path) in str(refused.value) and "\n" not in str(refused.value)


def test_a_wav_export_given_a_cover_file_says_it_carries_none(tmp_path: Path) -> None:
    png = tmp_path / "my.png"
    Image.new("RGB", (64, 64)).save(png)
    result = runner.invoke(app, ["export", str(TINY), "-o", str(tmp_path / "t.wav"),
                                 "--loudness", "off", "--cover", str(png)])  # fmt: skip
    assert result.exit_code == 0
    assert f"warning: a WAV file carries no cover: {png} is left out" in result.stderr
    assert probed_pictures(tmp_path / "t.wav") == []


def test_a_generated_cover_is_kept_and_a_broken_one_drawn_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loosen.output.cover import cover_cache_dir, generated_cover, render_cover

    monkeypatch.setenv("LOOSEN_CACHE_DIR", str(tmp_path))
    drawn = render_cover("Kept", "loosen")
    assert generated_cover("Kept").data == drawn
    (kept,) = cover_cache_dir().iterdir()
    assert kept.read_bytes() == drawn
    kept.write_bytes(drawn[: len(drawn) // 2])  # cut short: not a whole JPEG
    assert generated_cover("Kept").data == drawn
    assert kept.read_bytes() == drawn


@pytest.mark.parametrize("title", ["Расслабление мышц", "Χαλάρωση των μυών", "Релакс 15 min"])
def test_a_title_in_another_script_is_drawn_whole_in_the_wider_font(title: str) -> None:
    *lines, subtitle = layout_text(title)
    assert " ".join(line.text for line in lines) == title
    assert {line.face for line in lines} == {"dejavu"} and subtitle.face == "aileron"
    assert render_cover(title) != render_cover("")  # its letters are on the picture


def test_a_latin_title_keeps_pillows_own_font() -> None:
    *lines, _ = layout_text("Évening stretch")
    assert [(line.text, line.face) for line in lines] == [("Evening stretch", "aileron")]


@pytest.mark.parametrize("size", [300, 1400])
def test_a_long_word_makes_the_title_smaller_rather_than_broken(size: int) -> None:
    *lines, _ = layout_text("Muskelentspannungsübungen am Abend", size_px=size)
    assert lines[0].text == "Muskelentspannungsubungen"
