"""Sidecar files beside an export: CUE sheet, Audacity labels, JSON timeline, WebVTT captions."""

import json
import os
import re
from pathlib import Path

import pytest

from loosen.errors import BadInputError, ExportError
from loosen.output.sidecars import (
    SIDECAR_KINDS,
    audacity_labels,
    check_sidecars,
    cue_sheet,
    sidecar_path,
    webvtt,
    write_sidecars,
)
from loosen.plan.chapters import Chapter, chapters_from
from loosen.plan.expand import expand_session
from loosen.plan.timeline import Timeline, build_timeline
from loosen.script.loading import load_session, parse_session

HERE = Path(__file__).parent.parent
TINY = HERE / "data" / "tiny.toml"
RATE = 48_000


@pytest.fixture
def timeline() -> Timeline:
    return build_timeline(
        expand_session(load_session(TINY)),
        sample_rate=RATE,
        gap_s=0.5,
        speech_frames=lambda text: 1_000 + 997 * len(text),
        cue_frames=lambda cue: 24_000,
    )


def vtt_seconds(stamp: str) -> float:
    hours, minutes, seconds = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@pytest.mark.parametrize(
    ("kind", "name"),
    [("cue", "session.cue"), ("audacity", "session.txt"), ("json", "session.json"),
     ("vtt", "session.vtt"), ("podcast", "session.chapters.json")],
)  # fmt: skip
def test_a_sidecar_is_named_like_the_export_with_its_own_extension(kind: str, name: str) -> None:
    assert sidecar_path(Path("out/session.wav"), kind) == Path("out") / name


def test_an_unknown_kind_is_refused_with_the_kinds_listed() -> None:
    with pytest.raises(BadInputError, match="'srt'; use one of cue, audacity, json, vtt, podcast"):
        sidecar_path(Path("session.wav"), "srt")


def test_every_kind_is_written_atomically_beside_the_export(
    tmp_path: Path, timeline: Timeline
) -> None:
    audio = tmp_path / "session.wav"
    written = write_sidecars(
        audio, SIDECAR_KINDS, timeline=timeline, title="Tiny", chapters=chapters_from(timeline)
    )
    assert [p.name for p in written] == [
        "session.cue",
        "session.txt",
        "session.json",
        "session.vtt",
        "session.chapters.json",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)


def test_nothing_is_written_when_a_kind_is_unknown(tmp_path: Path, timeline: Timeline) -> None:
    with pytest.raises(BadInputError):
        write_sidecars(
            tmp_path / "s.wav",
            ["cue", "srt"],
            timeline=timeline,
            title="T",
            chapters=chapters_from(timeline),
        )
    assert list(tmp_path.iterdir()) == []


def test_the_cue_sheet_has_a_track_per_chapter_at_its_start(timeline: Timeline) -> None:
    chapters = chapters_from(timeline)
    sheet = cue_sheet("session.flac", "Tiny", chapters)
    assert 'FILE "session.flac" WAVE' in sheet
    assert re.findall(r'TITLE "(.*)"', sheet) == ["Tiny"] + [c.title for c in chapters]
    tracks = re.findall(r"TRACK (\d\d) AUDIO", sheet)
    assert tracks == [f"{n:02d}" for n in range(1, len(chapters) + 1)]
    indexes = re.findall(r"INDEX 01 (\d+):(\d\d):(\d\d)", sheet)
    starts_s = [int(m) * 60 + int(s) + int(f) / 75 for m, s, f in indexes]
    assert starts_s == pytest.approx([c.start_s for c in chapters], abs=1 / 150)


def test_a_cue_sheet_names_an_mp3_as_mp3_and_has_no_quotes_inside_titles() -> None:
    sheet = cue_sheet("session.mp3", 'The "best"', [Chapter(0, 61.5, 'say "ah"')])
    assert 'FILE "session.mp3" MP3' in sheet
    assert "TITLE \"The 'best'\"" in sheet and "TITLE \"say 'ah'\"" in sheet


def test_a_cue_sheet_past_99_tracks_is_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="at most 99 tracks; this session has 100"):
        check_sidecars(tmp_path / "s.wav", ["cue"], chapters=100)
    check_sidecars(tmp_path / "s.wav", ["vtt"], chapters=100)


def test_audacity_labels_are_start_end_and_title_with_six_decimals(timeline: Timeline) -> None:
    chapters = chapters_from(timeline)
    lines = audacity_labels(chapters).splitlines()
    assert len(lines) == len(chapters)
    for line, chapter in zip(lines, chapters, strict=True):
        start, end, label = line.split("\t")
        assert re.fullmatch(r"\d+\.\d{6}", start) and re.fullmatch(r"\d+\.\d{6}", end)
        assert (float(start), float(end), label) == (
            pytest.approx(chapter.start_s, abs=1e-6),
            pytest.approx(chapter.end_s, abs=1e-6),
            chapter.title,
        )


def test_the_json_sidecar_is_the_timeline_document(tmp_path: Path, timeline: Timeline) -> None:
    (path,) = write_sidecars(
        tmp_path / "session.ogg",
        ["json"],
        timeline=timeline,
        title="Tiny",
        chapters=chapters_from(timeline),
    )
    assert path == tmp_path / "session.json"
    assert json.loads(path.read_text(encoding="utf-8")) == timeline.to_json("Tiny")


def test_webvtt_has_one_cue_per_spoken_line_in_order(timeline: Timeline) -> None:
    text = webvtt(timeline)
    assert text.startswith("WEBVTT\n\n")
    cues = re.findall(
        r"^\d+\n(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n(.+)$", text, re.MULTILINE
    )
    spoken = [e for e in timeline.events if e.kind == "speech"]
    assert [c[2] for c in cues] == [e.text for e in spoken]
    for (start, end, _), event in zip(cues, spoken, strict=True):
        assert vtt_seconds(start) == pytest.approx(event.start / RATE, abs=0.0005)
        assert vtt_seconds(end) == pytest.approx(event.end / RATE, abs=0.0005)


def test_webvtt_escapes_markup_in_spoken_text() -> None:
    session = parse_session(
        'title = "t"\n[[steps]]\nkind = "say"\ntext = "Tom & Jerry <3 --> go"\n'
    )
    timeline = build_timeline(
        expand_session(session),
        sample_rate=RATE,
        gap_s=0.5,
        speech_frames=lambda text: 4800,
        cue_frames=lambda cue: 4800,
    )
    assert "\nTom &amp; Jerry &lt;3 --&gt; go\n" in webvtt(timeline)


def test_a_sidecar_that_cannot_be_written_is_an_export_error_and_leaves_no_temporary(
    tmp_path: Path, timeline: Timeline
) -> None:
    (tmp_path / "session.vtt").mkdir()  # a folder where the file should go
    with pytest.raises(ExportError, match=r"session\.vtt: could not write the file"):
        write_sidecars(
            tmp_path / "session.wav",
            ["vtt"],
            timeline=timeline,
            title="T",
            chapters=chapters_from(timeline),
        )
    assert [p.name for p in tmp_path.iterdir()] == ["session.vtt"]


def test_sidecars_get_ordinary_permissions(tmp_path: Path, timeline: Timeline) -> None:
    (path,) = write_sidecars(
        tmp_path / "session.wav",
        ["audacity"],
        timeline=timeline,
        title="T",
        chapters=chapters_from(timeline),
    )
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_podcast_chapters_hold_the_chapters_in_the_podcasting_2_format(
    tmp_path: Path, timeline: Timeline
) -> None:
    chapters = chapters_from(timeline)
    (path,) = write_sidecars(
        tmp_path / "s.mp3", ["podcast"], timeline=timeline, title="Tiny", chapters=chapters
    )
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["version"] == "1.2.0"
    assert [c["title"] for c in document["chapters"]] == [c.title for c in chapters]
    starts = [c["startTime"] for c in document["chapters"]]
    assert starts == sorted(starts) and starts[0] == 0
    for written, chapter in zip(document["chapters"], chapters, strict=True):
        assert abs(written["startTime"] - chapter.start_s) <= 0.0005
        assert abs(written["endTime"] - chapter.end_s) <= 0.0005
