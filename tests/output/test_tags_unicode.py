"""A title in any script reads back right in every reader that podcast makers use: ffprobe,
mutagen, exiftool and mediainfo (WAV: an ``id3 `` chunk; MP3: ID3v2.4 in UTF-8)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from loosen.output.export import export_blocks
from loosen.plan.chapters import Chapter, Tags
from tests.tools import require

RATE = 48_000
TITLE = "Détente du soir 深呼吸 🧘"  # accents, CJK and an emoji (past UTF-16's first plane)
TAGS = Tags(title=TITLE, comment="Rendered by loosen from détente.toml")
CHAPTERS = [Chapter(0.0, 1.0, "première 🧘"), Chapter(1.0, 2.0, "二")]


def exported(tmp_path: Path, extension: str) -> Path:
    out = tmp_path / f"session{extension}"
    silence = np.zeros((2 * RATE, 2), np.float32)
    export_blocks([silence], out, sample_rate=RATE, channels=2, chapters=CHAPTERS, tags=TAGS)
    return out


def tool_output(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.parametrize("extension", [".wav", ".mp3", ".flac", ".ogg"])
def test_a_unicode_title_and_chapters_read_back_in_ffprobe(tmp_path: Path, extension: str) -> None:
    out = exported(tmp_path, extension)
    document = json.loads(
        tool_output(require("ffprobe"), "-v", "error", "-show_format", "-show_streams",
                    "-show_chapters", "-of", "json", str(out))
    )  # fmt: skip
    (stream,) = document["streams"]
    tags = {k.lower(): v for k, v in (document["format"].get("tags") or stream["tags"]).items()}
    assert tags["title"] == TITLE
    assert tags["comment"] == TAGS.comment
    assert [c["tags"]["title"] for c in document["chapters"]] == [c.title for c in CHAPTERS]


@pytest.mark.parametrize("extension", [".wav", ".mp3"])
def test_a_unicode_title_reads_back_in_mutagen_exiftool_and_mediainfo(
    tmp_path: Path, extension: str
) -> None:
    import mutagen

    out = exported(tmp_path, extension)
    found = mutagen.File(out)
    assert found is not None and found.tags is not None
    assert str(found.tags["TIT2"]) == TITLE
    assert found.tags.version == (2, 4, 0)
    exif = json.loads(tool_output(require("exiftool"), "-json", "-Title", str(out)))
    assert exif[0]["Title"] == TITLE
    assert tool_output(require("mediainfo"), "--Inform=General;%Title%", str(out)) == TITLE
