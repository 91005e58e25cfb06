"""Sessions rendered on demand for `loosen serve`, and kept: the cache of served audio.

A rendering is an MP3 export (every phone, browser and podcast app plays MP3, with its ID3
chapters) by the library's front door, `loosen.pipeline.export_session`, with its Podcasting 2.0
chapters and its timeline beside it. Its key is the SHA-256 of what makes its samples: loosen's
version, the script's bytes and the choices (pace, voice, engine), so an edited script or
another pace is a new rendering of the same speech (the speech cache keeps the speech), and a
file once served never changes under its name: the key is also its strong ETag.

One thread renders, one session at a time (speech takes both cores): a listener's request
first, the feed's renderings after. Each file is written atomically by the export, the timeline
last, so a rendering is ready when its timeline is there: a rendering stopped half-way (a
failure, the server stopping) leaves nothing, and a failure is kept in memory only: said to
whoever asks, tried again once the script changes, and a machine's failure (exit 1) also when
asked again after `RETRY_AFTER_S`. A listener's request goes before the feed's renderings, and
moves a rendering already queued for the feed to the front; it also drops what listeners asked
of the same session before and is still waiting (a pace tapped and then another: the page asks
again for what it still wants, so nothing is lost). The oldest renderings beyond
`MAX_RENDERINGS` are removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from loosen.errors import LoosenError
from loosen.pipeline import (
    ExportOptions,
    Listener,
    SessionEntry,
    SessionOptions,
    cache_dir,
    export_session,
)

__all__ = [
    "MAX_RENDERINGS",
    "Failed",
    "Ready",
    "Rendering",
    "Renders",
    "State",
    "Variant",
    "served_cache_dir",
]

MAX_RENDERINGS = 64  # about 1 GB of 15-minute sessions
RETRY_AFTER_S = 30.0  # a rendering the machine failed is tried again when asked after this
KEY_PATTERN = re.compile(r"[0-9a-f]{32}")
AUDIO_SUFFIX = ".mp3"
AUDIO_TYPE = "audio/mpeg"
_STOP_WAIT_S = 10.0


def served_cache_dir() -> Path:
    """``$LOOSEN_CACHE_DIR/served`` if set, else the user cache directory's ``loosen/served``."""
    return cache_dir("served")


@dataclass(frozen=True)
class Variant:
    """How a session is rendered: a pace (a preset's name or a factor, as `SessionOptions`
    takes it; None: the script's) and a voice (None: the script's or the config file's)."""

    pace: str | None = None
    voice: str | None = None


@dataclass(frozen=True)
class Ready:
    """A rendering on disk: the MP3 (``audio``, ``size_bytes``), its Podcasting 2.0 chapters and
    timeline JSON beside it, and its ``key`` (its name and ETag)."""

    key: str
    audio: Path
    chapters: Path
    timeline: Path
    size_bytes: int
    mtime_s: float

    def timeline_document(self) -> dict[str, object]:
        """The timeline as `loosen show --json` gives it (see `loosen.plan.timeline`)."""
        document: dict[str, object] = json.loads(self.timeline.read_text(encoding="utf-8"))
        return document


@dataclass(frozen=True)
class Rendering:
    """A rendering under way (or waiting its turn): its stage and how far, from 0 to 1."""

    key: str
    stage: str = "Waiting"
    fraction: float = 0.0


@dataclass(frozen=True)
class Failed:
    """A rendering that failed, with the library's one-line message and its exit code (2: the
    script or a choice is wrong, 1: the machine failed)."""

    key: str
    message: str
    exit_code: int
    at_s: float = 0.0  # when (time.monotonic): a machine's failure is tried again later


State = Ready | Rendering | Failed


@dataclass(frozen=True)
class _Queued:
    """A rendering waiting its turn, and whether the feed asked for it (the feed's are never
    dropped, even once a listener has asked for one too; a listener's may be)."""

    key: str
    entry: SessionEntry
    variant: Variant
    for_feed: bool


class _StopRenderingError(Exception):
    """Raised in the rendering thread to stop an export when the server stops."""


class Renders:
    """The served renderings in ``folder``: their states, and the thread that makes them.

    ``engine``: the speech engine for every rendering (None: the config file's, else the
    default). Use as a context manager, or call `close`, which stops the thread: a rendering
    under way is abandoned, its files removed by the export.
    """

    def __init__(self, folder: Path, *, engine: str | None = None, version: str = "") -> None:
        self.folder = folder
        self._engine = engine
        self._version = version
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._finished = threading.Condition(self._lock)  # a rendering ended (or the server)
        self._queue: deque[_Queued] = deque()
        self._states: dict[str, Rendering | Failed] = {}
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.renders_done = 0  # how many renderings this server made (the others were on disk)

    def __enter__(self) -> Renders:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def key(self, entry: SessionEntry, variant: Variant) -> str:
        """The rendering's key: what makes its samples, hashed."""
        parts = [self._version, entry.digest, variant.pace or "", variant.voice or ""]
        parts.append(self._engine or "")
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]

    def state(self, entry: SessionEntry, variant: Variant, *, start: bool = True) -> State:
        """Where the rendering of ``entry`` as ``variant`` is; ``start``: queue it if it is not
        on disk, under way or failed (a listener's request goes before the feed's)."""
        key = self.key(entry, variant)
        ready = self.ready(key)
        if ready is not None:
            return ready
        with self._lock:
            known = self._states.get(key)
            if isinstance(known, Failed) and start and self._may_retry(known):
                known = None  # the machine failed a while ago: try again
            if not start or self._stopping:
                return known or Rendering(key)
            if known is not None and not isinstance(known, Rendering):
                return known
            self._drop_stale(entry, key)
            if known is not None:
                self._to_front(key)  # a listener waits for it: before the feed's renderings
                return known
            self._states[key] = Rendering(key)
            self._queue.appendleft(_Queued(key, entry, variant, for_feed=False))
            self._start_thread()
            self._wake.notify()
            return self._states[key]

    def _to_front(self, key: str) -> None:
        for queued in self._queue:
            if queued.key == key:
                self._queue.remove(queued)
                self._queue.appendleft(queued)
                return

    def _drop_stale(self, entry: SessionEntry, wanted: str) -> None:
        """Drop the renderings of ``entry`` other than ``wanted`` that listeners asked for and
        that wait their turn (not the feed's, not the one under way)."""
        for queued in list(self._queue):
            if not queued.for_feed and queued.key != wanted and queued.entry.path == entry.path:
                self._queue.remove(queued)
                self._states.pop(queued.key, None)

    @staticmethod
    def _may_retry(failed: Failed) -> bool:
        return failed.exit_code != 2 and time.monotonic() - failed.at_s >= RETRY_AFTER_S

    def wait_finished(self, key: str, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` seconds for the rendering ``key`` to end (made or failed),
        or for the server to stop: a page asking again at once then hears it the moment it is
        ready, rather than at its next poll."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while isinstance(self._states.get(key), Rendering) and not self._stopping:
                left_s = deadline - time.monotonic()
                if left_s <= 0 or not self._finished.wait(left_s):
                    return

    def queue_later(self, entry: SessionEntry, variant: Variant) -> None:
        """Queue a rendering behind every listener's request (the feed's episodes)."""
        key = self.key(entry, variant)
        with self._lock:
            if key in self._states or self._stopping or self.ready(key) is not None:
                return
            self._states[key] = Rendering(key)
            self._queue.append(_Queued(key, entry, variant, for_feed=True))
            self._start_thread()
            self._wake.notify()

    def ready(self, key: str) -> Ready | None:
        """The rendering ``key`` if it is on disk whole, else None (and for anything that is
        not a key)."""
        if not KEY_PATTERN.fullmatch(key):
            return None
        audio = self.folder / f"{key}{AUDIO_SUFFIX}"
        chapters = self.folder / f"{key}.chapters.json"
        timeline = self.folder / f"{key}.json"
        try:
            stat = audio.stat()
            if not (chapters.is_file() and timeline.is_file()):
                return None
        except OSError:
            return None
        return Ready(key, audio, chapters, timeline, stat.st_size, stat.st_mtime)

    def close(self) -> None:
        """Stop the rendering thread: what is under way is abandoned, nothing half-written."""
        with self._lock:
            self._stopping = True
            self._queue.clear()
            self._wake.notify_all()
            self._finished.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(_STOP_WAIT_S)

    def _start_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="loosen-serve-render")
            self._thread.daemon = True  # dies with the server if the join times out
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                queued = self._queue.popleft()
                key, entry, variant = queued.key, queued.entry, queued.variant
            try:
                self._render(key, entry, variant)
            except _StopRenderingError:
                return
            except LoosenError as error:
                self._end(key, Failed(key, str(error), error.exit_code, time.monotonic()))
            except Exception as error:  # a bug or the machine: said, and the thread goes on
                message = f"rendering failed: {type(error).__name__}: {error}"
                self._end(key, Failed(key, message, 1, time.monotonic()))
            else:
                self._end(key, None)
                self._prune()

    def _end(self, key: str, failed: Failed | None) -> None:
        """The rendering ``key`` ended: made (``failed`` None) or failed; its waiters hear it."""
        with self._lock:
            if failed is None:
                self._states.pop(key, None)
                self.renders_done += 1
            else:
                self._states[key] = failed
            self._finished.notify_all()

    def _render(self, key: str, entry: SessionEntry, variant: Variant) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        me = threading.current_thread()

        def progress(stage: str, done: int, total: int) -> None:
            if self._stopping and threading.current_thread() is me:
                raise _StopRenderingError
            fraction = min(done / total, 1.0) if total else 0.0
            with self._lock:
                if key in self._states:
                    self._states[key] = Rendering(key, stage.split(" ")[0], fraction)

        options = SessionOptions(engine=self._engine, voice=variant.voice, pace=variant.pace)
        export = ExportOptions(sidecars=("podcast",), timeline=self.folder / f"{key}.json")
        export_session(
            entry.path,
            self.folder / f"{key}{AUDIO_SUFFIX}",
            options,
            export,
            listener=Listener(progress=progress),
        )

    def touch(self, ready: Ready) -> None:
        """Say that ``ready`` was just served: the cache keeps what is used (`MAX_RENDERINGS`
        by the time each was last served or made)."""
        with contextlib.suppress(OSError):
            os.utime(ready.audio)

    def _prune(self) -> None:
        audios = sorted(self.folder.glob(f"*{AUDIO_SUFFIX}"), key=_mtime, reverse=True)
        for audio in audios[MAX_RENDERINGS:]:
            for path in (audio, audio.with_suffix(".chapters.json"), audio.with_suffix(".json")):
                with contextlib.suppress(OSError):  # in use elsewhere: next time
                    path.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
