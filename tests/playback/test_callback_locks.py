"""The audio callback never takes a lock: `play` with a fake sounddevice whose stream calls the
callback from a thread of its own, and every threading lock created for the playback (the
rendering's, the speech's, the transport's) swapped for one that records who acquires it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pytest

from loosen.playback import player
from loosen.playback.player import PlayResult, play
from loosen.render.rendering import render_session
from loosen.script.loading import load_session
from loosen.sound.cues import load_cue_set
from loosen.tts import Speech
from tests.fakes import FakeEngine

HERE = Path(__file__).parent.parent
TIMEOUT_S = 60.0  # generous: the test waits on events, this only bounds a hang
BLOCK_FRAMES = 1024


class Acquisitions:
    """The threads inside the callback now, and the locks acquired by them."""

    def __init__(self) -> None:
        self.inside: set[int] = set()  # thread idents now running the callback
        self.in_callback: list[str] = []  # what was acquired there
        self.anywhere = 0  # acquisitions by any thread: the swap is in effect

    def record(self, kind: str) -> None:
        self.anywhere += 1
        if threading.get_ident() in self.inside:
            self.in_callback.append(kind)


def recording(real: Callable[[], Any], kind: str, seen: Acquisitions) -> Callable[[], Any]:
    """A lock factory like ``real`` whose locks report each acquisition to ``seen``."""

    class RecordingLock:
        def __init__(self) -> None:
            self._lock = real()

        def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
            seen.record(kind)
            return bool(self._lock.acquire(blocking, timeout))

        def release(self) -> None:
            self._lock.release()

        def locked(self) -> bool:
            return bool(self._lock.locked())

        def __enter__(self) -> bool:
            return self.acquire()

        def __exit__(self, *exc: object) -> None:
            self.release()

    return RecordingLock


class CallbackStopError(Exception):
    """sounddevice's ``CallbackStop``."""


class CallbackAbortError(Exception):
    """sounddevice's ``CallbackAbort``."""


class FakeSounddevice(ModuleType):
    """sounddevice with one output stream, whose callback runs in a thread of its own, block
    after block, as fast as it returns, until it raises ``CallbackStop`` or ``CallbackAbort``."""

    CallbackStop = CallbackStopError
    CallbackAbort = CallbackAbortError
    PortAudioError = OSError

    def __init__(self, seen: Acquisitions) -> None:
        super().__init__("sounddevice")
        self.seen = seen
        self.calls = 0
        self.stream_ended = threading.Event()
        self._stopping = threading.Event()
        fake = self

        class OutputStream:
            def __init__(self, *, samplerate: int, channels: int, callback: Any, **_: object):
                self.channels = channels
                self.callback = callback
                self.thread = threading.Thread(target=self.run, name="fake-audio", daemon=True)

            def start(self) -> None:
                self.thread.start()

            def run(self) -> None:
                flags = SimpleNamespace(output_underflow=False)
                out = np.zeros((BLOCK_FRAMES, self.channels), np.float32)
                try:
                    while not fake._stopping.is_set():
                        fake.seen.inside.add(threading.get_ident())
                        try:
                            self.callback(out, BLOCK_FRAMES, None, flags)
                        finally:
                            fake.seen.inside.discard(threading.get_ident())
                            fake.calls += 1
                        fake._stopping.wait(0.001)  # pacing only, outside the callback
                except fake.CallbackStop:
                    pass  # the end of the session (or the player closed the stream first)
                finally:
                    fake.stream_ended.set()

            def stop(self) -> None:
                fake._stopping.set()
                self.thread.join(TIMEOUT_S)

            abort = stop

            def close(self) -> None:
                pass

        self.OutputStream = OutputStream


def test_the_audio_callback_takes_no_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = Acquisitions()
    monkeypatch.setattr(threading, "Lock", recording(threading.Lock, "Lock", seen))
    monkeypatch.setattr(threading, "RLock", recording(threading.RLock, "RLock", seen))
    sounddevice = FakeSounddevice(seen)
    monkeypatch.setattr(player, "_sounddevice", lambda: sounddevice)
    rendering = render_session(
        load_session(HERE / "data" / "tiny.toml"),
        speech=Speech(FakeEngine(), None),
        cue_set=load_cue_set(),
        progressive=True,
    )
    start_frame = rendering.timeline.total_frames - 2 * rendering.sample_rate  # the last 2 s
    results: list[PlayResult] = []
    done = threading.Event()

    def run() -> None:
        try:
            results.append(play(rendering, start_frame=start_frame))
        finally:
            done.set()

    with rendering:
        threading.Thread(target=run, name="test-play", daemon=True).start()
        assert done.wait(TIMEOUT_S), "playback did not end"
        assert sounddevice.stream_ended.wait(TIMEOUT_S)
    (result,) = results
    assert result.reason == "end"
    assert result.frame == rendering.timeline.total_frames
    assert sounddevice.calls >= 2 * rendering.sample_rate // BLOCK_FRAMES
    assert seen.anywhere > 0  # the locks of the playback are the recording ones
    assert seen.in_callback == []
