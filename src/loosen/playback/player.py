"""Live playback through sounddevice, with single-key control for eyes-closed listening.

The only module that imports sounddevice. It plays the blocks of the same renderer `export`
writes, through `loosen.playback.transport.Transport`, so the device gets the exported samples.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

import numpy as np

from loosen.errors import BadInputError, LoosenError, PlaybackError
from loosen.plan.timeline import StepSpan
from loosen.playback.controls import (
    announcement_frame,
    current_step,
    last_instruction,
    previous_step_frame,
    remaining_words,
    status_line,
)
from loosen.playback.keys import KeyReader
from loosen.playback.transport import Transport
from loosen.render.rendering import Rendering

__all__ = [
    "CONTROLS",
    "Console",
    "PlayResult",
    "list_devices",
    "native_stderr_silenced",
    "play",
]

CONTROLS = (
    "space: pause/resume   right or n: next step   left or p: previous   r: repeat instruction   "
    "+/-: volume   t: time left   q: quit"
)
VOLUME_STEP_DB = 3.0
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
    first_sound_at: float | None = None  # time.time() when the first audible sample was handed on
    underruns: int = 0
    error: LoosenError | None = None
    interruption: KeyboardInterrupt | None = (
        None  # Ctrl+C, or a signal (`loosen.errors.Terminated`)
    )
    abandoned: bool = False  # the audio output would not stop: the process must exit at once


def _sounddevice() -> ModuleType:
    try:
        import sounddevice
    except OSError as error:  # the wheel has no PortAudio on Linux
        raise PlaybackError(
            f"cannot play: {error}; install PortAudio (Debian/Ubuntu: libportaudio2), "
            "or write a file with `loosen export`"
        ) from None
    module: ModuleType = sounddevice
    return module


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Keep what PortAudio and ALSA print from C (device probing, "Expression ... failed") off the
    terminal, while Python's own ``sys.stderr`` (the status line, messages) still reaches it."""
    try:
        sys.stderr.flush()
        own = sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        own = False  # stderr is captured (tests): nothing native reaches it anyway
    if not own:
        yield
        return
    saved = os.dup(2)
    original = sys.stderr
    sys.stderr = io.TextIOWrapper(
        io.FileIO(saved, "w", closefd=False), encoding=original.encoding, write_through=True
    )
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        sys.stderr = original


def list_devices() -> list[tuple[int, str, int, bool]]:
    """Output devices as ``(index, name, max output channels, is default)``."""
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
        default = sd.default.device[1]
    except sd.PortAudioError as error:
        raise PlaybackError(f"cannot list audio devices: {error}") from None
    return [
        (i, str(d["name"]), int(d["max_output_channels"]), i == default)
        for i, d in enumerate(devices)
        if d["max_output_channels"] > 0
    ]


def _resolve_device(device: str | None) -> int | None:
    if device is None:
        return None
    outputs = list_devices()
    if device.isdigit():
        if any(i == int(device) for i, *_ in outputs):
            return int(device)
    else:
        matches = [i for i, name, *_ in outputs if device.lower() in name.lower()]
        if matches:
            return matches[0]
    names = ", ".join(f"{i}: {name}" for i, name, *_ in outputs) or "none"
    raise BadInputError(f"no output device {device!r}; devices: {names}")


# ---------------------------------------------------------------- playback
class _Session:
    """One playback: stream, transport, keys and status."""

    def __init__(self, rendering: Rendering, transport: Transport, console: Console | None):
        self.rendering = rendering
        self.transport = transport
        self.console = console
        self.rate = rendering.sample_rate
        self.last_fill = time.monotonic()
        self.layout_error: BaseException | None = None

    def callback(self, outdata: Any, frames: int, when: Any, status: Any) -> None:
        sd = _sounddevice()
        self.last_fill = time.monotonic()
        if status.output_underflow:
            self.transport.underruns += 1
        try:
            alive = self.transport.fill(outdata)
        except BaseException as error:  # sounddevice would swallow it
            self.transport.error = error
            self.transport.finished.set()
            raise sd.CallbackAbort from None
        if not alive:
            raise sd.CallbackStop

    def lay_out_ahead(self) -> None:
        """Measure and place every remaining step now, so the total is known soon."""
        try:
            self.rendering.place_until(None)
        except BaseException as error:
            self.layout_error = error
            self.transport.finished.set()

    def handle(self, key: str) -> bool:
        """Act on one key; False means quit."""
        t, rendering = self.transport, self.rendering
        if key == "q":
            return False
        if key == "space":
            t.set_paused(not t.paused)
        elif key in ("right", "n"):
            span = current_step(rendering.spans, t.position)
            index = span.index + 1 if span else 1
            if index <= len(rendering.steps):
                t.seek(rendering.step_start(index))
            elif rendering.finished:
                t.seek(rendering.timeline.steps[-1].end)  # the closing chime
        elif key in ("left", "p"):
            t.seek(previous_step_frame(rendering.spans, t.position, self.rate))
        elif key == "r":
            self.repeat_instruction()
        elif key in ("+", "up"):
            t.gain = min(t.gain * 10 ** (VOLUME_STEP_DB / 20), 2.0)
        elif key in ("-", "down"):
            t.gain = max(t.gain / 10 ** (VOLUME_STEP_DB / 20), 0.01)
        elif key == "t" and rendering.finished:
            self.say_time_left()
        return True

    def repeat_instruction(self) -> None:
        """Say the last instruction again, once the line now sounding has ended, with the
        session held meanwhile (a hold that is running waits too)."""
        position, rendering = self.transport.position, self.rendering
        events = rendering.events_between(0, position + 1)
        instruction = last_instruction(events, position)
        if instruction is None or instruction.text is None:
            return
        speaking = [e for e in events if e.kind == "speech" and e.start <= position < e.end]
        at = max([position, *(e.end for e in speaking)])
        self.transport.announce(self._spoken(instruction.text), at, hold=True)

    def say_time_left(self) -> None:
        """Say how long is left in the first quiet moment, without shifting the timeline."""
        position, rendering = self.transport.position, self.rendering
        total = rendering.timeline.total_frames
        horizon = position + round(30 * self.rate)
        events = rendering.events_between(0, horizon)
        words = remaining_words((total - position) / self.rate)
        for _ in range(2):  # the words are for the moment they are said
            speech = self._spoken(words)
            where = announcement_frame(events, position, speech.size, self.rate, rendering.audible)
            again = remaining_words((total - where.frame) / self.rate)
            if again == words:
                break
            words = again
        self.transport.announce(speech, where.frame, hold=where.hold)

    def _spoken(self, text: str) -> Any:
        """``text`` as the session's voice says it, at the voice's level (float32, mono)."""
        return self.rendering.clips.samples(text) * np.float32(self.rendering.voice_gain)

    def status_text(self, width: int = 80) -> str:
        t, rendering = self.transport, self.rendering
        span = current_step(rendering.spans, t.position)
        step = "starting"
        if span is not None:
            step = f"{span.index}/{len(rendering.steps)} {span.name or span.kind}"
            if span.side:
                step += f" ({span.side})"
        total_s = rendering.timeline.duration_s if rendering.finished else None
        return status_line(
            paused=t.paused,
            step=step,
            elapsed_s=t.position / self.rate,
            total_s=total_s,
            volume_db=20 * math.log10(t.gain),
            width=width,
        )


def play(
    rendering: Rendering,
    *,
    start_frame: int = 0,
    device: str | None = None,
    latency: float | str | None = None,
    console: Console | None = None,
    keys: KeyReader | None = None,
    on_first_block: Callable[[float], None] | None = None,
) -> PlayResult:
    """Play ``rendering`` from ``start_frame`` to the end, or until quit.

    Returns how it ended. Ctrl+C fades out within a fraction of a second and returns
    ``"interrupted"``. A lost device ends with ``"error"`` and a `PlaybackError` in the result,
    so the caller can still save the position.
    """
    began = time.monotonic()
    transport = Transport(rendering, start_frame=start_frame)
    session = _Session(rendering, transport, console)
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
        threading.Thread(target=session.lay_out_ahead, name="loosen-layout", daemon=True).start()
        try:
            stream = sd.OutputStream(
                samplerate=rendering.sample_rate,
                channels=rendering.channels,
                dtype="float32",
                device=device_index,
                latency=latency if latency is not None else 0.1,
                callback=session.callback,
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
            pressed = keys.read(0.1) if keys is not None else []
            if keys is None:
                transport.finished.wait(0.1)
            if not all(session.handle(key) for key in pressed):
                reason = "quit"
                transport.stop()
                transport.finished.wait(0.5)
                break
            if console is not None:
                console.status(session.status_text(console.width))
            # (after a Ctrl+Z the callback, stopped with the rest, has not run: not a stall)
            last_heard = max(session.last_fill, keys.resumed_at if keys is not None else 0.0)
            stalled = time.monotonic() - last_heard > STALL_S
            if stalled and not transport.paused:
                raise PlaybackError("the audio output stopped (was the device removed?)")
        if session.layout_error is not None:
            raise session.layout_error
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
        transport.close()
        abandoned = stream is not None and not _closed(stream, drain=reason in ("end", "quit"))
    frame = transport.position
    return PlayResult(
        reason=reason,
        frame=frame,
        step=current_step(rendering.spans, frame),
        first_block_s=first_block_s,
        first_sound_at=transport.first_sound_at,
        underruns=transport.underruns,
        error=error,
        interruption=interruption,
        abandoned=abandoned,
    )


def _closed(stream: Any, *, drain: bool) -> bool:
    """Stop and close ``stream``, letting the device play what it holds if ``drain``; False if
    that does not end within `CLOSE_TIMEOUT_S` (an audio server that hangs: PortAudio waits
    for it for ever, in this call and again when the process exits)."""
    done = threading.Event()

    def close() -> None:
        with contextlib.suppress(Exception):  # PortAudio's errors: the stream is going anyway
            if drain:
                stream.stop()  # the fade-out included
            else:
                stream.abort()
            stream.close()
        done.set()

    threading.Thread(target=close, name="loosen-close-stream", daemon=True).start()
    return done.wait(CLOSE_TIMEOUT_S if drain else CLOSE_TIMEOUT_S / 2)
