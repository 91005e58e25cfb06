"""Chapters from the timeline, and chapters and tags inside every format, checked with ffprobe."""

import itertools
import json
import struct
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from mutagen import id3

import loosen.output.export
import loosen.output.formats
from loosen.errors import ExportError
from loosen.output.export import export_blocks
from loosen.output.formats import FORMATS
from loosen.output.riff import marker_chunks
from loosen.plan.chapters import (
    Chapter,
    ChapterSpan,
    Tags,
    chapter_spans,
    chapters_from,
    clock,
    embed,
    soundfile_tags,
    tags_for,
)
from loosen.plan.expand import expand_session
from loosen.plan.timeline import StepSpan, Timeline, build_timeline
from loosen.script.loading import load_session
from tests.output.test_export import tone_blocks
from tests.tools import require

HERE = Path(__file__).parent.parent
TINY = HERE / "data" / "tiny.toml"
RATE = 48_000
MP3_FRAME_S = 1152 / RATE

CHAPTERS = [
    Chapter(0.0, 0.5, "welcome"),
    Chapter(0.5, 1.25, "hamstring stretch (right)"),
    Chapter(1.25, 2.0, "Dehnung « links » & <mehr>"),
]
TAGS = Tags(title="Évening stretch", comment="Rendered by loosen from evening.toml")


def timeline_of(*steps: tuple[str, str | None, str | None, int, int], total: int) -> Timeline:
    spans = tuple(
        StepSpan(i, kind, name, side, start, end)
        for i, (kind, name, side, start, end) in enumerate(steps, start=1)
    )
    return Timeline(RATE, (), spans, total, 0, 0)


def probe(path: Path) -> dict[str, Any]:
    ffprobe = require("ffprobe")
    result = subprocess.run(
        [ffprobe, "-v", "error", "-show_chapters", "-show_format", "-show_streams",
         "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    document: dict[str, Any] = json.loads(result.stdout)
    return document


# --- chapters from the timeline ---------------------------------------------------------------


def test_each_named_step_is_a_chapter_and_unnamed_steps_join_the_one_before() -> None:
    timeline = timeline_of(
        ("say", "welcome", None, 100, 1000),
        ("pause", None, None, 1000, 2000),
        ("hold", "reach", "right", 2000, 3000),
        ("hold", "reach", "left", 3000, 4000),
        ("say", None, None, 4000, 5000),
        total=6000,
    )
    assert chapter_spans(timeline) == [
        ChapterSpan(0, 2000, "welcome"),
        ChapterSpan(2000, 3000, "reach (right)"),
        ChapterSpan(3000, 6000, "reach (left)"),
    ]


def test_chapters_are_contiguous_from_zero_to_the_end_in_seconds() -> None:
    timeline = timeline_of(
        ("say", "a", None, 12_000, 24_000), ("say", "b", None, 24_000, 96_000), total=120_000
    )
    assert chapters_from(timeline) == [Chapter(0.0, 0.5, "a"), Chapter(0.5, 2.5, "b")]


def test_unnamed_steps_before_the_first_name_and_unnamed_sides_are_titled_by_their_kind() -> None:
    timeline = timeline_of(
        ("breathe", None, None, 10, 20),
        ("tense_release", None, "left", 20, 30),
        ("say", "closing", None, 30, 40),
        total=50,
    )
    assert [c.title for c in chapters_from(timeline)] == [
        "Breathing",
        "Tense and release (left)",
        "closing",
    ]


def test_a_named_step_that_takes_no_time_gives_way_to_the_next() -> None:
    timeline = timeline_of(
        ("say", "empty", None, 10, 10), ("pause", "rest", None, 10, 20), total=30
    )
    assert chapter_spans(timeline) == [ChapterSpan(0, 30, "rest")]


def test_a_session_without_steps_is_one_chapter() -> None:
    assert chapters_from(timeline_of(total=RATE)) == [Chapter(0.0, 1.0, "Session")]


def test_the_tiny_session_has_a_chapter_per_named_step_and_side() -> None:
    session = load_session(TINY)
    timeline = build_timeline(
        expand_session(session),
        sample_rate=RATE,
        gap_s=0.5,
        speech_frames=lambda text: 1_000 + 997 * len(text),
        cue_frames=lambda cue: 24_000,
    )
    chapters = chapters_from(timeline)
    titles = ["welcome", "reach (right)", "reach (left)", "taps", "breath", "hands"]
    assert [c.title for c in chapters] == titles  # the unnamed closing pause is part of "hands"
    assert chapters[0].start_s == 0.0
    assert chapters[-1].end_s == timeline.duration_s
    assert all(a.end_s == b.start_s for a, b in itertools.pairwise(chapters))


def test_a_clock_shows_hours_minutes_seconds_and_milliseconds() -> None:
    assert clock(0) == "00:00:00.000"
    assert clock(3723.4567) == "01:02:03.457"


def test_tags_name_the_script_they_were_rendered_from() -> None:
    tags = tags_for("Back loosening", Path("scripts/back-loosening.toml"))
    assert tags == Tags(
        title="Back loosening",
        artist="loosen",
        album="loosen sessions",
        comment="Rendered by loosen from back-loosening.toml",
    )


def test_libsndfile_writes_the_tags_of_every_format_but_mp3() -> None:
    assert soundfile_tags("MP3", TAGS) == {}
    assert soundfile_tags("WAV", None) == {}
    assert soundfile_tags("FLAC", TAGS)["title"] == "Évening stretch"


# --- chapters and tags in the file ------------------------------------------------------------


@pytest.mark.parametrize("extension", sorted(FORMATS))
def test_ffprobe_lists_the_chapters_and_tags_of_every_format(
    tmp_path: Path, extension: str
) -> None:
    out = tmp_path / f"session{extension}"
    export_blocks(tone_blocks(2.0), out, sample_rate=RATE, channels=2, chapters=CHAPTERS, tags=TAGS)
    document = probe(out)
    tolerance_s = MP3_FRAME_S if extension == ".mp3" else 0.001
    chapters = document["chapters"]
    assert [c["tags"]["title"] for c in chapters] == [c.title for c in CHAPTERS]
    for found, chapter in zip(chapters, CHAPTERS, strict=True):
        assert float(found["start_time"]) == pytest.approx(chapter.start_s, abs=tolerance_s)
        # Vorbis comments give starts only; ffprobe ends an Opus file's last chapter at its
        # duration, which counts Opus's pre-skip (312 samples, 6.5 ms)
        end_tolerance_s = 0.008 if extension == ".opus" else tolerance_s  # (and ms rounding)
        assert float(found["end_time"]) == pytest.approx(chapter.end_s, abs=end_tolerance_s)
    # Ogg keeps its Vorbis comments with the stream; the other formats with the file (an MP4's
    # second stream is its chapter track)
    (stream,) = [s for s in document["streams"] if s["codec_type"] == "audio"]
    tags = {k.lower(): v for k, v in (document["format"].get("tags") or stream["tags"]).items()}
    assert tags["title"] == TAGS.title
    assert tags["artist"] == "loosen"
    assert tags["album"] == "loosen sessions"
    assert tags["comment"] == TAGS.comment
    assert list(tmp_path.iterdir()) == [out]


@pytest.mark.parametrize("extension", [".wav", ".flac", ".ogg"])
def test_chapters_and_tags_leave_every_frame_of_the_audio(tmp_path: Path, extension: str) -> None:
    plain, marked = tmp_path / f"plain{extension}", tmp_path / f"marked{extension}"
    export_blocks(tone_blocks(2.0), plain, sample_rate=RATE, channels=2)
    export_blocks(
        tone_blocks(2.0), marked, sample_rate=RATE, channels=2, chapters=CHAPTERS, tags=TAGS
    )
    plain_audio, _ = sf.read(plain, dtype="int16" if extension != ".ogg" else "float32")
    marked_audio, _ = sf.read(marked, dtype="int16" if extension != ".ogg" else "float32")
    assert len(marked_audio) == 2 * RATE
    assert np.array_equal(plain_audio, marked_audio)


def test_an_mp3_with_chapters_and_tags_lasts_as_long_as_one_without(tmp_path: Path) -> None:
    plain, marked = tmp_path / "plain.mp3", tmp_path / "marked.mp3"
    export_blocks(tone_blocks(2.0), plain, sample_rate=RATE, channels=2)
    export_blocks(
        tone_blocks(2.0), marked, sample_rate=RATE, channels=2, chapters=CHAPTERS, tags=TAGS
    )
    duration_s = float(probe(marked)["format"]["duration"])
    assert duration_s == float(probe(plain)["format"]["duration"])
    # ffprobe counts the encoder's delay and padding: up to two MP3 frames more
    assert duration_s == pytest.approx(2.0, abs=2 * MP3_FRAME_S)
    # libsndfile's decoder honours the LAME gapless header behind the new ID3v2 tag
    assert sf.info(marked).frames == sf.info(plain).frames == 2 * RATE


def test_an_mp3_has_an_ordered_top_level_table_of_contents(tmp_path: Path) -> None:
    out = tmp_path / "session.mp3"
    export_blocks(tone_blocks(2.0), out, sample_rate=RATE, channels=2, chapters=CHAPTERS, tags=TAGS)
    tag = id3.ID3(out)
    assert tag.version == (2, 4, 0)  # text in UTF-8
    (toc,) = tag.getall("CTOC")
    assert toc.flags == id3.CTOCFlags.TOP_LEVEL | id3.CTOCFlags.ORDERED
    chaps = {chap.element_id: chap for chap in tag.getall("CHAP")}
    assert [str(chaps[i].sub_frames["TIT2"]) for i in toc.child_element_ids] == [
        c.title for c in CHAPTERS
    ]
    assert [chaps[i].start_time for i in toc.child_element_ids] == [0, 500, 1250]
    assert str(tag["COMM::eng"]) == TAGS.comment


def test_an_mp3_with_more_chapters_than_a_table_holds_gets_a_table_of_tables(
    tmp_path: Path,
) -> None:
    out = tmp_path / "session.mp3"
    many = [Chapter(n / 100, (n + 1) / 100, f"part {n}") for n in range(300)]
    export_blocks(tone_blocks(3.0), out, sample_rate=RATE, channels=2, chapters=many)
    tag = id3.ID3(out)
    tocs = {toc.element_id: toc for toc in tag.getall("CTOC")}
    (top,) = [toc for toc in tocs.values() if toc.flags & id3.CTOCFlags.TOP_LEVEL]
    listed = [chap for child in top.child_element_ids for chap in tocs[child].child_element_ids]
    assert [len(tocs[child].child_element_ids) for child in top.child_element_ids] == [255, 45]
    chaps = {chap.element_id: chap for chap in tag.getall("CHAP")}
    assert [str(chaps[i].sub_frames["TIT2"]) for i in listed] == [c.title for c in many]
    found = probe(out)["chapters"]
    assert [c["tags"]["title"] for c in found] == [c.title for c in many]


def test_a_wav_with_markers_has_the_right_riff_size_and_still_reads(tmp_path: Path) -> None:
    out = tmp_path / "session.wav"
    export_blocks(tone_blocks(2.0), out, sample_rate=RATE, channels=2, chapters=CHAPTERS, tags=TAGS)
    data = out.read_bytes()
    assert data[:4] == b"RIFF"
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    assert len(data) % 2 == 0
    markers = marker_chunks(
        [
            (0, "welcome"),
            (24_000, "hamstring stretch (right)"),
            (60_000, "Dehnung « links » & <mehr>"),
        ]
    )
    # the markers, then the tags in an ID3v2 chunk
    assert data[data.index(markers) + len(markers) :][:4] == b"id3 "
    info = sf.info(out)
    assert (info.frames, info.samplerate, info.channels) == (2 * RATE, RATE, 2)


def test_marker_chunks_have_even_sizes_and_zero_terminated_labels() -> None:
    chunks = marker_chunks([(0, "ab"), (480, "abc")])
    assert chunks[:4] == b"cue "
    assert struct.unpack("<II", chunks[4:12]) == (4 + 2 * 24, 2)  # size, count
    assert struct.unpack("<II4sIII", chunks[12:36]) == (1, 0, b"data", 0, 0, 0)
    assert struct.unpack("<II4sIII", chunks[36:60]) == (2, 480, b"data", 0, 0, 480)
    adtl = chunks[60:]
    assert adtl[:4] == b"LIST" and adtl[8:12] == b"adtl"
    assert struct.unpack("<I", adtl[4:8])[0] == len(adtl) - 8
    assert adtl[12:] == (
        b"labl\x07\x00\x00\x00\x01\x00\x00\x00ab\x00\x00"  # odd size: one pad byte
        b"labl\x08\x00\x00\x00\x02\x00\x00\x00abc\x00"
    )


def test_an_rf64_export_gets_its_markers_and_its_ds64_size_patched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loosen.output.formats, "_WAV_LIMIT_BYTES", 0)  # RF64 for any size
    out = tmp_path / "session.wav"
    export_blocks(
        tone_blocks(2.0),
        out,
        sample_rate=RATE,
        channels=2,
        total_frames=2 * RATE,
        chapters=CHAPTERS,
        tags=TAGS,
    )
    data = out.read_bytes()
    assert data[:4] == b"RF64" and data[12:16] == b"ds64"
    assert struct.unpack("<Q", data[20:28])[0] == len(data) - 8
    assert sf.info(out).frames == 2 * RATE
    assert [c["tags"]["title"] for c in probe(out)["chapters"]] == [c.title for c in CHAPTERS]


def test_a_failure_to_write_chapters_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("a marker lies past the 32-bit sample offsets of a WAV cue point")

    monkeypatch.setattr(loosen.output.export, "embed", broken)
    out = tmp_path / "session.wav"
    with pytest.raises(ExportError, match="could not write chapters or tags: a marker lies"):
        export_blocks(tone_blocks(0.5), out, sample_rate=RATE, channels=2, chapters=CHAPTERS)
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_wav_is_refused_by_the_marker_writer(tmp_path: Path) -> None:
    path = tmp_path / "fake.wav"
    path.write_bytes(b"OggS" + bytes(40))
    with pytest.raises(ValueError, match="not a WAV file"):
        embed(path, "WAV", sample_rate=RATE, chapters=CHAPTERS, tags=None)
