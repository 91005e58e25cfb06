"""Live playback through sounddevice, with single-key control for eyes-closed listening.

It plays the blocks of the same renderer `export`
writes, through `loosen.playback.transport.Transport`, so the device gets the exported samples.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from loosen.errors import LoosenError, PlaybackError
from loosen.plan.timeline import StepSpan
from loosen.playback.actions import KeyActions
from loosen.playback.controls import current_step
from loosen.playback.devices import load_sounddevice as _sounddevice
from loosen.playback.devices import resolve_device as _resolve_device
from loosen.playback.keys import KeyReader
from loosen.playback.remote import Remote
from loosen.playback.ring import Audio, Signal
from loosen.playback.transport import Transport
from loosen.playback.waits import WAIT_REMINDER_S
from loosen.render.rendering import Rendering

__all__ = [
    "CONTROLS",
    "Console",
    "PlayResult",
    "play",
]

CONTROLS = (
    "space: pause/resume   right or n: next step   left or p: previous   r: repeat instruction   "
    "+/-: volume   t: time left   e: 10 s more of this hold   q: quit"
)
STALL_S = 3.0  # no audio callback for this long while playing: the device is gone
CLOSE_TIMEOUT_S = 1.5  # a stream that takes longer to close is abandoned (a hung server)


class Console(Protocol):
    """Where the player talks to the listener (the CLI passes one; `--quiet` passes None)."""

    @property
    def width(self) -> int:
        """How many columns a line may take."""
        ...

    def status(self, text: str) -> None:
        """Replace the status line with ``text``."""

    def line(self, text: str) -> None:
        """Print ``text`` on a line of its own."""


@dataclass(frozen=True)
class PlayResult:
    """How playback ended: ``"end"``, ``"quit"``, ``"interrupted"`` or ``"error"``."""

    reason: str
    frame: int
    step: StepSpan | None
    first_block_s: float | None = None  # from `play` being called to the first block handed on
    underruns: int = 0
    error: LoosenError | None = None
    interruption: KeyboardInterrupt | None = (
        None  # Ctrl+C, or a signal (`loosen.errors.Terminated`)
    )
    abandoned: bool = False  # the audio output would not stop: the process must exit at once


# ---------------------------------------------------------------- playback
class _StreamFlags(Protocol):
    """What the callback reads of sounddevice's ``CallbackFlags``."""

    @property
    def output_underflow(self) -> bool: ...


class _AudioCallback:
    """The stream's callback: the transport's audio to the device, and when it last asked.

    What it needs of sounddevice (the exceptions that end the stream) is resolved once, before
    the stream starts; on each call it takes no lock and looks nothing up.

    Parameters
    ----------
    transport
        What it plays.
    stop, abort
        sounddevice's ``CallbackStop`` and ``CallbackAbort``.
    last_fill
        The ``time.monotonic()``, in seconds, to count a stall from until the first call.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        stop: type[BaseException],
        abort: type[BaseException],
        last_fill: float,
    ):
        self.transport = transport
        self._stop = stop
        self._abort = abort
        self.last_fill = last_fill  # time.monotonic() of the last call, in seconds

    def __call__(self, outdata: Audio, frames: int, when: object, status: _StreamFlags) -> None:
        self.last_fill = time.monotonic()
        if status.output_underflow:
            self.transport.underruns += 1
        try:
            alive = self.transport.fill(outdata)
        except BaseException as error:  # sounddevice would swallow it
            self.transport.error = error
            self.transport.finished.set()
            raise self._abort from None
        if not alive:
            raise self._stop


class _LayoutAhead:
    """Lays out every remaining step in a thread of its own, so the total is known soon.

    It owns its thread: `start` starts it, `stop` asks it to end after the step it is placing,
    and `join` waits for it (at most ``timeout_s``: a step's speech being synthesized is not
    waited for longer; the daemon thread dies with the process). A failure is kept in
    ``error`` and sets ``finished``.
    """

    def __init__(self, rendering: Rendering, finished: Signal):
        self.rendering = rendering
        self.finished = finished
        self.error: BaseException | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start laying out."""
        self._thread = threading.Thread(target=self._lay_out, name="loosen-layout", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end after the step it is placing (does not wait)."""
        self._stopping.set()

    def join(self, timeout_s: float = 2.0) -> None:
        """Stop the thread and wait for it, at most ``timeout_s`` seconds."""
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)

    def _lay_out(self) -> None:
        rendering = self.rendering
        try:
            for index in range(1, len(rendering.steps) + 1):  # one step at a time: stoppable
                if self._stopping.is_set():
                    return
                rendering.step_start(index)
            if not self._stopping.is_set():
                rendering.place_until(None)  # the end of the session: the total is known
        except BaseException as error:
            self.error = error
            self.finished.set()


def play(
    rendering: Rendering,
    *,
    start_frame: int = 0,
    device: str | None = None,
    latency: float | str | None = None,
    console: Console | None = None,
    keys: KeyReader | None = None,
    on_first_block: Callable[[float], None] | None = None,
    remote: Remote | None = None,
    announce: bool = True,
    wait_reminder_s: float | None = WAIT_REMINDER_S,
) -> PlayResult:
    """Play ``rendering`` from ``start_frame`` to the end, or until quit. ``remote``: the
    desktop's media controls (their commands come in its inbox; it is shown what is playing).
    ``announce``: answer each control by ear (a sound, the step's name). A step that waits
    for the listener pauses playback until they resume, with a reminder sound every
    ``wait_reminder_s`` seconds (None: none).

    Returns how it ended. Ctrl+C fades out within a fraction of a second and returns
    ``"interrupted"``. A lost device ends with ``"error"`` and a `PlaybackError` in the result,
    so the caller can still save the position.
    """
    began = time.monotonic()
    transport = Transport(rendering, start_frame=start_frame)
    actions = KeyActions(rendering, transport, announce=announce, wait_reminder_s=wait_reminder_s)
    layout = _LayoutAhead(rendering, transport.finished)
    transport.start()  # the first blocks render while PortAudio loads
    first_block_s = None
    reason = "end"
    error: LoosenError | None = None
    interruption: KeyboardInterrupt | None = None
    stream = None
    try:
        # loaded here, in this thread: a process must never exit while PortAudio is starting
        # in another one (it can crash there, printing ALSA's noise)
        sd = _sounddevice()
        device_index = _resolve_device(device)
        if not transport.wait_ready(timeout_s=60.0):
            if transport.error is not None:
                raise transport.error
            raise PlaybackError("rendering did not keep up: nothing to play after 60 s")
        layout.start()
        actions.waits.follow()  # a step that waits at the very start is armed before it plays
        callback = _AudioCallback(
            transport, stop=sd.CallbackStop, abort=sd.CallbackAbort, last_fill=began
        )
        try:
            stream = sd.OutputStream(
                samplerate=rendering.sample_rate,
                channels=rendering.channels,
                dtype="float32",
                device=device_index,
                latency=latency if latency is not None else 0.1,
                callback=callback,
            )
            stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            if device_index is None and "device -1" in str(exc):
                raise PlaybackError(
                    "no audio output device found; write a file instead with `loosen export`"
                ) from None
            raise PlaybackError(
                f"cannot open the audio output ({exc}); try `loosen devices`, or write a file "
                "with `loosen export`"
            ) from None
        first_block_s = time.monotonic() - began
        if on_first_block is not None:
            on_first_block(first_block_s)
        if console is not None and keys is not None:
            console.line(CONTROLS)
        while not transport.finished.is_set():
            if not _obey_controls(actions, keys, remote, transport.finished):
                reason = "quit"
                transport.stop()
                transport.finished.wait(0.5)
                break
            actions.waits.follow()
            if console is not None:
                console.status(actions.status_text(console.width))
            if remote is not None:
                remote.controls.show(actions.now_playing())
            # (after a Ctrl+Z the callback, stopped with the rest, has not run: not a stall)
            last_heard = max(callback.last_fill, keys.resumed_at if keys is not None else 0.0)
            stalled = time.monotonic() - last_heard > STALL_S
            if stalled and not transport.paused and transport.waiting_at is None:
                raise PlaybackError("the audio output stopped (was the device removed?)")
        if layout.error is not None:
            raise layout.error
        if transport.error is not None:
            raise transport.error
    except KeyboardInterrupt as stop:
        reason, interruption = "interrupted", stop
        transport.stop()
        transport.finished.wait(0.15)
    except PlaybackError as exc:
        if first_block_s is None:
            raise  # nothing has played: no place to keep
        reason, error = "error", exc
    finally:
        layout.stop()  # first: it ends after its step while the rest closes
        transport.close()
        abandoned = stream is not None and not _closed(stream, drain=reason in ("end", "quit"))
        layout.join()
    frame = transport.position
    return PlayResult(
        reason=reason,
        frame=frame,
        step=current_step(rendering.spans, frame),
        first_block_s=first_block_s,
        underruns=transport.underruns,
        error=error,
        interruption=interruption,
        abandoned=abandoned,
    )


def _obey_controls(
    actions: KeyActions, keys: KeyReader | None, remote: Remote | None, finished: Signal
) -> bool:
    """Wait up to 0.1 s for keys or a remote's commands, and act on them; False means quit."""
    pressed = keys.read(0.1) if keys is not None else []
    if keys is None:
        (remote.inbox.arrived if remote is not None else finished).wait(0.1)
    commands = remote.inbox.take() if remote is not None else []
    return all(actions.handle(key) for key in pressed) and all(map(actions.obey, commands))


class _Stream(Protocol):
    """What `_closed` uses of a sounddevice ``OutputStream``."""

    def stop(self) -> None: ...

    def abort(self) -> None: ...

    def close(self) -> None: ...


def _closed(stream: _Stream, *, drain: bool) -> bool:
    """Stop and close ``stream``, letting the device play what it holds if ``drain``; False if
    that does not end within `CLOSE_TIMEOUT_S` (an audio server that hangs: PortAudio waits
    for it for ever, in this call and again when the process exits).

    The closing runs in a thread of its own, joined here once it has ended; a thread that does
    not end in time is abandoned to the process's exit, which `PlayResult.abandoned` asks for.
    """
    done = threading.Event()

    def close() -> None:
        with contextlib.suppress(Exception):  # PortAudio's errors: the stream is going anyway
            if drain:
                stream.stop()  # the fade-out included
            else:
                stream.abort()
            stream.close()
        done.set()

    closing = threading.Thread(target=close, name="loosen-close-stream", daemon=True)
    closing.start()
    if not done.wait(CLOSE_TIMEOUT_S if drain else CLOSE_TIMEOUT_S / 2):
        return False
    closing.join()  # it has set ``done``: it is returning
    return True
