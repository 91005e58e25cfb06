"""Blocks -> an audio file, written atomically (`loosen.atomic`): a temporary file beside the
target, then a rename.

A failure or an interruption removes the temporary file, so the target is either absent, the
previous complete file, or the new complete file; never a truncated one.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import queue
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from loosen.atomic import atomic_path, write_error
from loosen.dsp import to_pcm16
from loosen.errors import ExportError
from loosen.output.encoders import check_encoding, open_writer
from loosen.output.formats import AudioFormat, check_output_path, wav_limit_frames
from loosen.plan.chapters import Chapter, Tags, embed, soundfile_tags
from loosen.processes import process_alive

__all__ = ["export_blocks", "remove_stale_parts"]


def export_blocks(
    blocks: Iterable[npt.NDArray[np.float32]],
    path: Path,
    *,
    sample_rate: int,
    channels: int,
    total_frames: int | None = None,
    progress: Callable[[int], None] | None = None,
    chapters: Sequence[Chapter] | Callable[[], Sequence[Chapter]] | None = None,
    tags: Tags | None = None,
    quality: str | None = None,
) -> None:
    """Write ``blocks`` (float32, shape (frames, channels), in [-1, 1]) to ``path``. A block of
    shape (frames, 1) plays on every channel.

    The format follows the extension (see `FORMATS`). ``progress(frames)`` is called after each
    block with the number of frames it held. ``chapters`` (or a function giving them once the
    last block is written, for a session laid out as it is rendered) and ``tags``, when given,
    are written into the file (see `loosen.plan.chapters`; ``tags.cover`` in every format but
    WAV) before it is renamed into place.
    ``total_frames``, when known, lets a WAV past 4 GB be written as RF64. ``quality`` (low,
    standard, high; None: standard) sets a lossy format's encoder (`loosen.output.encoders`); a
    lossless format takes none, and an MP3 only its sample rates (`BadInputError`, before
    anything is written). Raises `ExportError`
    on a write failure; on any failure or interruption the temporary file is removed and an
    existing ``path`` is untouched.
    """
    from mutagen import MutagenError

    fmt = check_output_path(path)
    container = fmt.container
    check_encoding(container, sample_rate=sample_rate, quality=quality)
    if container == "WAV" and total_frames and total_frames > wav_limit_frames(channels):
        container = "RF64"
    folder = path.parent if str(path.parent) else Path()
    remove_stale_parts(folder, path.name)
    try:
        # its name holds the process id (`loosen.atomic.temp_prefix`), which tells a later run
        # whether the writer is still alive (`remove_stale_parts`)
        with atomic_path(path) as temp:
            chapters = _write_samples(
                temp, blocks, fmt, container=container, sample_rate=sample_rate,
                channels=channels, quality=quality, tags=tags, progress=progress,
                chapters=chapters,
            )  # fmt: skip
            try:
                embed(temp, container, sample_rate=sample_rate, chapters=chapters, tags=tags)
                if container in ("OGG", "OPUS"):  # libsndfile's serial is random: make it
                    # the same file every time
                    from loosen.output.ogg_pages import stabilize_serial

                    stabilize_serial(temp)
            except (ValueError, MutagenError) as error:
                raise ExportError(f"{path}: could not write chapters or tags: {error}") from None
    except (OSError, RuntimeError) as error:  # libsndfile's errors are RuntimeErrors
        raise write_error(path, "the file", error) from None


def _write_samples(
    temp: Path,
    blocks: Iterable[npt.NDArray[np.float32]],
    fmt: AudioFormat,
    *,
    container: str,
    sample_rate: int,
    channels: int,
    quality: str | None,
    tags: Tags | None,
    progress: Callable[[int], None] | None,
    chapters: Sequence[Chapter] | Callable[[], Sequence[Chapter]] | None,
) -> Sequence[Chapter] | None:
    """Encode ``blocks`` into the file ``temp`` (`export_blocks`' temporary file); return the
    chapters (those of a function once the last block is written), which a writer that holds
    them itself (MP4's) has been given before it completes the file."""
    import soundfile as sf

    try:
        with open_writer(
            temp, container=container, subtype=fmt.subtype, sample_rate=sample_rate,
            channels=channels, quality=quality, strings=soundfile_tags(container, tags),
            cover=tags.cover if tags is not None else None,
        ) as out:  # fmt: skip
            # numpy's conversion is quicker than libsndfile's, most of what a 16-bit write
            # takes; LAME takes 16-bit samples too
            pcm16 = fmt.subtype == "PCM_16" or container == "MP3"
            convert = to_pcm16 if pcm16 else _as_float32

            def encode(block: npt.NDArray[np.float32]) -> npt.NDArray[Any]:
                samples: npt.NDArray[Any] = convert(block)
                if samples.ndim == 2 and samples.shape[1] == 1 and channels > 1:
                    # a mono rendering of a stereo file: repeated here, after the conversion,
                    # on the writer's thread
                    samples = np.repeat(samples, channels, axis=1)
                return samples

            # the disk takes the file as it is written, so closing it waits for little
            with _flushing(temp) as flush:
                _write_behind(out, blocks, progress, encode, flush)
            if callable(chapters):
                chapters = chapters()
            if chapters and hasattr(out, "set_chapters"):
                out.set_chapters(chapters)
            return chapters
    except sf.LibsndfileError:
        # libsndfile says only "System error."; looked at while the temporary file, which
        # gives the space back once removed, is still there
        if _nearly_full(temp.parent):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)) from None
        raise


def _as_float32(block: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return np.asarray(block, dtype=np.float32)


_DONE = None
_QUEUED_BLOCKS = 4  # written behind the renderer; a few seconds of audio at most
_FLUSH_BYTES = 8 * 2**20  # the writer flushes the file to the disk after each this many bytes


@contextlib.contextmanager
def _flushing(path: Path) -> Iterator[Callable[[], None]]:
    """A function that asks for what has been written to ``path`` so far to go to the disk: a
    thread of its own starts it on its way, so neither the writer nor the renderer waits for
    the disk, the final ``fsync`` (`loosen.atomic`) finds little left to write, and a long
    export does not fill the page cache.

    Linux: ``posix_fadvise(DONTNEED)`` starts the writeback of the pages written and drops
    those already on the disk, without waiting and without the journal commit that an
    ``fdatasync`` of a growing file costs every time: for 5 GB (an 8-hour session), 2.6 s of
    kernel time against 10.4 s, and in proportion to the size (1.3 GB: 0.6 s against 3.1 s).
    Elsewhere (macOS has no ``posix_fadvise``), ``fdatasync``, or ``fsync`` where that is
    missing too (macOS, Windows)."""
    descriptor = os.open(path, os.O_RDONLY)
    asked, done = threading.Event(), threading.Event()
    advise = getattr(os, "posix_fadvise", None)
    sync = getattr(os, "fdatasync", None) or os.fsync

    def flush() -> None:
        while True:
            asked.wait()
            asked.clear()
            if done.is_set():
                return
            with contextlib.suppress(OSError):  # the final flush, after closing, reports errors
                if advise is not None:
                    advise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
                else:
                    sync(descriptor)

    flusher = threading.Thread(target=flush, name="loosen-flusher", daemon=True)
    flusher.start()
    try:
        yield asked.set
    finally:
        done.set()
        asked.set()
        flusher.join()
        os.close(descriptor)


def _write_behind(
    out: Any,
    blocks: Iterable[npt.NDArray[Any]],
    progress: Callable[[int], None] | None,
    encode: Callable[[npt.NDArray[Any]], npt.NDArray[Any]] = np.asarray,
    flush: Callable[[], None] | None = None,
) -> None:
    """Write ``encode(block)`` for each of ``blocks`` to the open SoundFile ``out`` from a thread
    of its own, so the caller's thread renders the next block while this one is converted (numpy
    releases the GIL) and written (so does libsndfile). The thread calls ``flush()`` after each
    `_FLUSH_BYTES` or so: a flush to the disk then waits on the writer's thread, in parallel
    with the rendering, instead of all at once when the file is closed.

    The rendering stays on the caller's thread, where Ctrl+C arrives; any failure or interruption
    stops the writer before this returns or raises, so ``out`` can be closed and removed.
    """
    pending: queue.Queue[npt.NDArray[Any] | None] = queue.Queue(maxsize=_QUEUED_BLOCKS)
    failed: list[BaseException] = []

    def write() -> None:
        unflushed = 0
        while (block := pending.get()) is not _DONE:
            if failed:
                continue  # drain, so the producer never blocks on a full queue
            try:
                samples = encode(block)
                out.write(samples)
                unflushed += samples.nbytes
                if flush is not None and unflushed >= _FLUSH_BYTES:
                    flush()
                    unflushed = 0
            except BaseException as error:  # handed to the caller's thread below
                failed.append(error)

    writer = threading.Thread(target=write, name="loosen-writer", daemon=True)
    writer.start()
    try:
        for block in blocks:
            if failed:
                break
            pending.put(block)
            if progress is not None:
                progress(len(block))
    finally:
        pending.put(_DONE)
        writer.join()
    if failed:
        raise failed[0]


def remove_stale_parts(folder: Path, name: str) -> list[Path]:
    """Remove the temporary files that exports to ``folder / name`` killed outright (SIGKILL, a
    power cut) left behind: those whose writer process no longer runs. Returns them."""
    removed = []
    for part in folder.glob(f".{glob.escape(name)}.*.part"):
        pid = part.name[len(name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            _remove(part)
            removed.append(part)
    return removed


def _nearly_full(folder: Path) -> bool:
    """Whether ``folder``'s file system has less than a megabyte free."""
    try:
        return shutil.disk_usage(folder).free < 2**20
    except OSError:
        return False


def _running(pid: int) -> bool:
    return process_alive(pid)  # never os.kill: on Windows that ends the process


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
