import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from loosen.errors import BadInputError, ExportError
from loosen.output.export import export_blocks, remove_stale_parts
from loosen.output.formats import FORMATS, check_output_path
from loosen.output.split import check_split_folder, export_split, split_names
from loosen.plan.chapters import Chapter, tags_for
from loosen.render.rendering import Rendering, render_session
from loosen.script.loading import load_session
from loosen.sound.cues import load_cue_set
from loosen.tts import Speech, SpeechCache
from loosen.tts.pyttsx3_engine import Pyttsx3Engine
from tests.fakes import FakeEngine
from tests.tools import require
from tests.tts.faulty_worker import FaultyPyttsx3Engine

RATE = 48_000


def tone_blocks(seconds: float = 2.0, block: int = 4096) -> Iterator[np.ndarray]:
    t = np.arange(round(seconds * RATE)) / RATE
    mono = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    stereo = np.repeat(mono[:, None], 2, axis=1)
    for start in range(0, len(stereo), block):
        yield stereo[start : start + block]


@pytest.mark.parametrize("extension", sorted(FORMATS))
def test_every_format_is_written_and_decodes_to_the_same_length(
    tmp_path: Path, extension: str
) -> None:
    out = tmp_path / f"session{extension}"
    export_blocks(tone_blocks(), out, sample_rate=RATE, channels=2)
    ffprobe = require("ffprobe")
    probe = subprocess.run(
        [ffprobe, "-v", "error", "-show_streams", "-of", "json", str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    (stream,) = json.loads(probe.stdout)["streams"]
    assert int(stream["sample_rate"]) == RATE
    assert int(stream["channels"]) == 2
    assert float(stream.get("duration", 2.0)) == pytest.approx(2.0, abs=0.1)
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


def test_a_wav_export_keeps_every_frame(tmp_path: Path) -> None:
    out = tmp_path / "session.wav"
    export_blocks(tone_blocks(1.5), out, sample_rate=RATE, channels=2)
    info = sf.info(out)
    assert (info.frames, info.samplerate, info.channels, info.subtype) == (
        72_000,
        RATE,
        2,
        "PCM_16",
    )


def test_a_failure_midway_leaves_the_previous_file_intact_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "session.wav"
    out.write_bytes(b"previous complete file")

    def failing() -> Iterator[np.ndarray]:
        yield from tone_blocks(0.5)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_blocks(failing(), out, sample_rate=RATE, channels=2)
    assert out.read_bytes() == b"previous complete file"
    assert list(tmp_path.iterdir()) == [out]


def test_a_write_error_becomes_an_export_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "session.wav"

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(ExportError, match="No space left on device"):
        export_blocks(tone_blocks(0.2), out, sample_rate=RATE, channels=2)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_chapters_known_only_after_the_last_block_are_still_embedded(tmp_path: Path) -> None:
    # a session laid out while it is written learns its chapters at the end
    written: list[int] = []

    def blocks() -> Iterator[np.ndarray]:
        for block in tone_blocks(2.0):
            written.append(len(block))
            yield block

    def chapters() -> list[Chapter]:
        assert sum(written) == 2 * RATE  # asked for once every block is in
        return [Chapter(0.0, 1.0, "first"), Chapter(1.0, 2.0, "second")]

    out = tmp_path / "late.wav"
    export_blocks(blocks(), out, sample_rate=RATE, channels=2, chapters=chapters)
    probe = subprocess.run(
        [require("ffprobe"), "-v", "error", "-show_chapters", "-of", "json", str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    titles = [c["tags"]["title"] for c in json.loads(probe.stdout)["chapters"]]
    assert titles == ["first", "second"]


def test_16_bit_samples_are_rounded_to_the_nearest_step_and_read_back_unchanged(
    tmp_path: Path,
) -> None:
    steps = np.array([-32768, -32767, -1, 0, 1, 2, 12_345, 32767], np.float32) / 32768
    block = np.stack([steps, steps + 0.4 / 32768], axis=1)  # right: a little off each step
    block = np.concatenate([block, [[1.5, -1.5]]]).astype(np.float32)  # out of range: clipped
    out = tmp_path / "steps.wav"
    export_blocks([block], out, sample_rate=RATE, channels=2)
    read, _ = sf.read(out, dtype="int16")
    expected = np.concatenate([steps * 32768, [32767]]).astype(np.int16)
    assert np.array_equal(read[:, 0], expected)
    assert np.array_equal(read[:-1, 1], expected[:-1])  # 0.4 of a step rounds back down
    assert read[-1, 1] == -32768


def test_a_failure_in_the_writer_thread_stops_the_render_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "session.wav"
    rendered: list[int] = []

    def endless() -> Iterator[np.ndarray]:
        while True:
            rendered.append(1)
            yield np.zeros((RATE, 2), np.float32)

    def failing_write(self: sf.SoundFile, data: np.ndarray) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sf.SoundFile, "write", failing_write)
    with pytest.raises(ExportError, match="No space left on device"):
        export_blocks(endless(), out, sample_rate=RATE, channels=2)
    assert len(rendered) < 10  # the renderer stopped soon after the writer failed
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kernel", ["linux", "without posix_fadvise"])
def test_the_file_goes_to_the_disk_while_it_is_written_not_all_at_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kernel: str
) -> None:
    import loosen.output.export

    flushed: list[int] = []
    synced: list[int] = []  # fdatasync's journal commits, with posix_fadvise there
    advice: list[tuple[int, int, int]] = []
    out = tmp_path / "session.wav"

    def fdatasync(descriptor: int) -> None:
        flushed.append(os.fstat(descriptor).st_size)

    def posix_fadvise(descriptor: int, offset: int, length: int, what: int) -> None:
        advice.append((offset, length, what))
        flushed.append(os.fstat(descriptor).st_size)

    monkeypatch.setattr(loosen.output.export, "_FLUSH_BYTES", 4 * RATE)  # a second of 16-bit stereo
    if kernel == "linux":
        if not hasattr(os, "posix_fadvise"):
            pytest.skip("no posix_fadvise on this system")
        monkeypatch.setattr(os, "posix_fadvise", posix_fadvise)
        monkeypatch.setattr(os, "fdatasync", synced.append)
    else:
        monkeypatch.delattr(os, "posix_fadvise", raising=False)
        monkeypatch.setattr(os, "fdatasync", fdatasync)
    export_blocks(tone_blocks(10.0), out, sample_rate=RATE, channels=2)
    assert flushed and 0 < flushed[0] <= flushed[-1] < out.stat().st_size
    assert not synced
    assert set(advice) <= {(0, 0, os.POSIX_FADV_DONTNEED)}  # all written so far
    read, rate = sf.read(out, dtype="float32")
    assert rate == RATE and len(read) == 10 * RATE


def test_the_exported_file_gets_ordinary_permissions(tmp_path: Path) -> None:
    out = tmp_path / "session.wav"
    export_blocks(tone_blocks(0.1), out, sample_rate=RATE, channels=2)
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize(
    ("name", "message"),
    [("session.aiff", "cannot export to .aiff"), ("session", "no extension"),
     ("missing/session.wav", "does not exist")],
)  # fmt: skip
def test_bad_output_paths_are_refused_before_any_work(
    tmp_path: Path, name: str, message: str
) -> None:
    with pytest.raises(BadInputError, match=message):
        check_output_path(tmp_path / name)


def test_a_folder_as_output_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "out.wav"
    folder.mkdir()
    with pytest.raises(BadInputError, match="is a folder"):
        check_output_path(folder)


# --- one file per chapter ----------------------------------------------------------------------

TINY = Path(__file__).parent.parent / "data" / "tiny.toml"
TINY_PARTS = [
    "01 welcome.flac",
    "02 reach (right).flac",
    "03 reach (left).flac",
    "04 taps.flac",
    "05 breath.flac",
    "06 hands.flac",
]


@pytest.fixture(scope="module")
def tiny_rendering() -> Rendering:
    session = load_session(TINY)
    return render_session(
        session, speech=Speech(FakeEngine(), None), cue_set=load_cue_set(session.cues)
    )


def test_a_split_export_writes_a_numbered_named_file_per_chapter(
    tmp_path: Path, tiny_rendering: Rendering
) -> None:
    folder = tmp_path / "tiny"
    paths = export_split(tiny_rendering, folder, extension=".flac")
    assert [p.name for p in paths] == TINY_PARTS
    assert sorted(p.name for p in folder.iterdir()) == TINY_PARTS


def test_the_split_files_played_in_order_are_the_whole_export_sample_for_sample(
    tmp_path: Path, tiny_rendering: Rendering
) -> None:
    paths = export_split(tiny_rendering, tmp_path / "parts", extension=".flac")
    whole = tmp_path / "whole.flac"
    export_blocks(tiny_rendering.blocks(), whole, sample_rate=RATE, channels=2)
    parts = np.concatenate([sf.read(p, dtype="int16")[0] for p in paths])
    assert len(parts) == tiny_rendering.timeline.total_frames
    assert np.array_equal(parts, sf.read(whole, dtype="int16")[0])


def test_each_split_file_is_tagged_with_its_chapter_the_session_and_its_number(
    tmp_path: Path, tiny_rendering: Rendering
) -> None:
    tags = tags_for("Tiny", TINY)
    paths = export_split(tiny_rendering, tmp_path / "parts", extension=".flac", tags=tags)
    with sf.SoundFile(paths[2]) as part:
        assert (part.title, part.album, part.artist) == ("reach (left)", "Tiny", "loosen")
        assert (part.tracknumber, part.comment) == ("3", "Rendered by loosen from tiny.toml")


def test_a_split_export_counts_progress_over_all_parts(
    tmp_path: Path, tiny_rendering: Rendering
) -> None:
    frames: list[int] = []
    export_split(tiny_rendering, tmp_path / "parts", progress=frames.append)
    assert sum(frames) == tiny_rendering.timeline.total_frames


def test_a_split_export_replaces_same_named_files_and_keeps_others(
    tmp_path: Path, tiny_rendering: Rendering
) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "01 welcome.wav").write_bytes(b"old")
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    export_split(tiny_rendering, folder)
    assert sf.info(folder / "01 welcome.wav").frames > 0
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize(
    ("make", "message"),
    [("file", "is a file"), ("no parent", "does not exist"), ("bad extension", "cannot export")],
)
def test_a_split_folder_that_cannot_be_used_is_refused(
    tmp_path: Path, make: str, message: str
) -> None:
    folder, extension = tmp_path / "parts", ".wav"
    if make == "file":
        folder.write_bytes(b"")
    elif make == "no parent":
        folder = tmp_path / "missing" / "parts"
    else:
        extension = ".aiff"
    with pytest.raises(BadInputError, match=message):
        check_split_folder(folder, extension)


def test_split_names_are_zero_padded_and_safe_for_any_file_system() -> None:
    titles = ["relaxation: hands", "back/neck", "tab\there", " .hidden. ", "", *["x"] * 7]
    names = split_names(titles, ".wav")
    assert names[:5] == [
        "01 relaxation - hands.wav",
        "02 back-neck.wav",
        "03 tab here.wav",
        "04 hidden.wav",
        "05 part.wav",
    ]
    assert split_names(["a"] * 100)[99] == "100 a.wav"
    assert len(split_names(["é" * 300])[0].encode("utf-8")) < 255


def loosen_export(*args: str | Path, cache: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "loosen", "export", *map(str, args)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "LOOSEN_CACHE_DIR": str(cache)},
    )  # fmt: skip


def test_killed_at_20_moments_the_target_is_the_previous_file_or_the_new_one_whole(
    tmp_path: Path,
) -> None:
    # SIGKILL gives no chance to clean up: what protects the target is the temp-and-rename
    tiny = Path(__file__).parent.parent / "data" / "tiny.toml"
    out, new = tmp_path / "out.wav", tmp_path / "new.wav"
    assert loosen_export(tiny, "-o", out, cache=tmp_path / "warm").wait() == 0
    assert loosen_export(tiny, "-o", new, "--pace", "1.5", cache=tmp_path / "warm").wait() == 0
    previous = out.read_bytes()
    moments = random.Random(20)
    for run in range(20):
        # every other run starts with an empty speech cache: killed while synthesizing too
        cache = tmp_path / ("warm" if run % 2 else f"cold-{run}")
        export = loosen_export(tiny, "-o", out, "--pace", "1.5", cache=cache)
        time.sleep(moments.uniform(0.05, 1.5))
        export.kill()
        export.wait()
        data = out.read_bytes()
        assert data in (previous, new.read_bytes()), f"run {run}: neither file whole"
    assert loosen_export(tiny, "-o", out, "--pace", "1.5", cache=tmp_path / "cold-0").wait() == 0
    assert out.read_bytes() == new.read_bytes()  # and the killed runs' caches still serve
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert leftovers == []  # the last run removed what the killed ones left


def test_a_stale_temporary_file_is_removed_but_a_live_writers_is_kept(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = tmp_path / f".session.wav.{dead.stdout.strip()}.x1y2.part"
    live = tmp_path / f".session.wav.{os.getpid()}.a1b2.part"
    other = tmp_path / ".other.wav.1.zz.part"
    for path in (stale, live, other):
        path.write_bytes(b"half a file")
    export_blocks(tone_blocks(0.1), tmp_path / "session.wav", sample_rate=RATE, channels=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [live.name, other.name, "session.wav"]
    )


def test_the_temporary_file_of_a_killed_mp3_tagging_is_removed_with_its_exports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from loosen.output.id3v2 import prepend_tag

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    export_temp = tmp_path / f".session.mp3.{dead.stdout.strip()}.x1y2.part"
    export_temp.write_bytes(b"audio")
    seen: list[Path] = []

    def interrupted(*args: object) -> None:
        seen.extend(p for p in tmp_path.iterdir() if p != export_temp)
        raise KeyboardInterrupt

    monkeypatch.setattr(shutil, "copyfileobj", interrupted)
    with pytest.raises(KeyboardInterrupt):
        prepend_tag(export_temp, b"ID3")
    (tagging,) = seen
    tagging.write_bytes(b"half a file")  # as a SIGKILL, which removes nothing, would leave it
    assert set(remove_stale_parts(tmp_path, "session.mp3")) == {export_temp, tagging}
    assert list(tmp_path.iterdir()) == []


def test_cold_exports_in_fresh_processes_are_byte_identical_and_so_is_a_warm_one(
    tmp_path: Path,
) -> None:
    tiny = Path(__file__).parent.parent / "data" / "tiny.toml"
    runs = [("first.flac", "cache-a"), ("second.flac", "cache-b"), ("warm.flac", "cache-a")]
    for name, cache in runs:
        assert loosen_export(tiny, "-o", tmp_path / name, cache=tmp_path / cache).wait() == 0
    first, second, warm = ((tmp_path / name).read_bytes() for name, _ in runs)
    assert first == second == warm


def test_a_cold_export_has_its_espeak_worker_speak_and_the_warm_one_comes_out_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    import loosen.tts
    from loosen.cli import app

    opened: list[Pyttsx3Engine] = []
    open_engine = loosen.tts.open_engine

    def recording(*args: object, **options: object) -> object:
        engine = open_engine(*args, **options)  # type: ignore[arg-type]
        opened.append(engine)  # type: ignore[arg-type]
        return engine

    monkeypatch.setattr("loosen.tts.open_engine", recording)
    monkeypatch.setenv("LOOSEN_CACHE_DIR", str(tmp_path / "cache"))
    tiny = Path(__file__).parent.parent / "data" / "tiny.toml"
    for name in ("cold.wav", "warm.wav"):
        result = CliRunner().invoke(app, ["export", str(tiny), "-o", str(tmp_path / name)])
        assert result.exit_code == 0, result.stderr
    cold_engine, warm_engine = opened  # one engine each (a second one gained nothing)
    # (a worker that pyttsx3 fails now and then is replaced: at least one)
    assert cold_engine.workers_started >= 1
    assert warm_engine.workers_started == 0  # all cached
    assert (tmp_path / "cold.wav").read_bytes() == (tmp_path / "warm.wav").read_bytes()


@pytest.mark.slow
def test_a_bundled_session_comes_out_byte_for_byte_the_same_however_its_cache_was_filled(
    tmp_path: Path,
) -> None:
    # cold in fresh caches, two exports at once on one empty cache, warm, and after repairs
    def export(name: str, cache: str) -> subprocess.Popen[bytes]:
        return loosen_export("stretch-quick", "-o", tmp_path / name, cache=tmp_path / cache)

    assert export("cold-1.flac", "a").wait() == 0
    assert export("cold-2.flac", "b").wait() == 0
    together = [export(f"shared-{n}.flac", "shared") for n in (1, 2)]
    assert [e.wait() for e in together] == [0, 0]
    assert export("warm.flac", "shared").wait() == 0
    clips = sorted((tmp_path / "shared").rglob("*.clip"))
    clips[0].unlink()  # one line lost, another damaged: both are spoken again
    clips[1].write_bytes(clips[1].read_bytes()[:-100])
    assert export("repaired.flac", "shared").wait() == 0
    outputs = ["cold-1", "cold-2", "shared-1", "shared-2", "warm", "repaired"]
    first, *others = ((tmp_path / f"{name}.flac").read_bytes() for name in outputs)
    assert all(other == first for other in others), outputs


def export_tiny(engine: object, out: Path, cache: Path) -> None:
    session = load_session(Path(__file__).parent.parent / "data" / "tiny.toml")
    speech = Speech(engine, SpeechCache(cache))  # type: ignore[arg-type]
    rendering = render_session(
        session, speech=speech, cue_set=load_cue_set(session.cues), progressive=True,
        synthesize_ahead=True,
    )  # fmt: skip
    try:
        export_blocks(rendering.blocks(), out, sample_rate=RATE, channels=2)
    finally:
        speech.stop()


def test_a_speech_worker_killed_mid_render_is_replaced_and_the_export_completes(
    tmp_path: Path,
) -> None:
    with Pyttsx3Engine() as clean:
        export_tiny(clean, tmp_path / "clean.wav", tmp_path / "clean-cache")
    with Pyttsx3Engine() as engine:
        session = load_session(Path(__file__).parent.parent / "data" / "tiny.toml")
        speech = Speech(engine, SpeechCache(tmp_path / "cache"))
        assert speech.clip("Welcome.").n_frames  # the worker is up and has spoken
        assert engine.worker_pid is not None
        os.kill(engine.worker_pid, signal.SIGKILL)  # as the OOM killer would
        rendering = render_session(session, speech=speech, cue_set=load_cue_set(session.cues))
        export_blocks(rendering.blocks(), tmp_path / "out.wav", sample_rate=RATE, channels=2)
        assert engine.workers_started == 2
    # each line is spoken from the worker's start-up state, so the new worker's clips are the
    # killed one's would have been: it replays nothing
    out, _ = sf.read(tmp_path / "out.wav", dtype="int16")
    clean, _ = sf.read(tmp_path / "clean.wav", dtype="int16")
    assert np.array_equal(out, clean)


def test_a_speech_engine_that_keeps_failing_ends_in_one_line_and_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from loosen.cli import app

    def failing_engine(name: str = "pyttsx3", **options: object) -> Pyttsx3Engine:
        return FaultyPyttsx3Engine("die", **options)  # type: ignore[arg-type]

    monkeypatch.setattr("loosen.tts.open_engine", failing_engine)
    out = tmp_path / "out.wav"
    out.write_bytes(b"the previous export")
    tiny = Path(__file__).parent.parent / "data" / "tiny.toml"
    result = CliRunner().invoke(app, ["export", str(tiny), "-o", str(out), "--no-cache"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: pyttsx3 failed to speak 'Welcome.' after 3 tries")
    assert len(result.stderr.strip().splitlines()) == 1
    assert out.read_bytes() == b"the previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.wav"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB file system of its own (tmpfs; needs root), unmounted afterwards."""
    disk = tmp_path / "small-disk"
    disk.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
                           capture_output=True, text=True, check=False)  # fmt: skip
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mount.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_full_disk_ends_in_one_line_and_leaves_the_previous_file_intact(
    small_disk: Path, tmp_path: Path
) -> None:
    out = small_disk / "session.wav"
    out.write_bytes(b"the previous export")
    tiny = Path(__file__).parent.parent / "data" / "tiny.toml"
    export = subprocess.run(
        [sys.executable, "-m", "loosen", "export", str(tiny), "-o", str(out)],
        capture_output=True, text=True, check=False,
        env={**os.environ, "LOOSEN_CACHE_DIR": str(tmp_path / "cache")},
    )  # fmt: skip
    assert export.returncode == 1
    assert export.stderr.strip() == (
        f"Error: {out}: could not write the file: No space left on device"
    )
    assert out.read_bytes() == b"the previous export"
    assert [p.name for p in small_disk.iterdir()] == ["session.wav"]
