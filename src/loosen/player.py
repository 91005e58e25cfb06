"""Live playback through sounddevice, with single-key control for eyes-closed listening.

The only module that imports sounddevice. It plays the blocks of the same renderer `export`
writes, through `loosen.transport.Transport`, so the device gets the exported samples.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

from loosen.durations import format_length
from loosen.errors import BadInputError, LoosenError, PlaybackError
from loosen.keys import KeyReader
from loosen.render import Rendering
from loosen.timeline import Event, StepSpan
from loosen.transport import Transport

__all__ = [
    "CONTROLS",
    "Console",
    "PlayResult",
    "find_step",
    "list_devices",
    "native_stderr_silenced",
    "play",
    "previous_step_frame",
    "remaining_words",
    "repeat_frame",
    "warm_up",
]

CONTROLS = (
    "space pause/resume   right or n: next step   left or p: previous   r: repeat instruction   "
    "+/-: volume   t: time left   q: quit"
)
RESTART_WITHIN_S = 2.0  # "previous" restarts the current step once this far into it
VOLUME_STEP_DB = 3.0
STALL_S = 3.0  # no audio callback for this long while playing: the device is gone


class Console(Protocol):
    """Where the player talks to the listener (the CLI passes one; `--quiet` passes None)."""

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


def warm_up() -> threading.Thread:
    """Load PortAudio in the background (it takes a noticeable part of start-up), while the
    caller prepares the session; `play` then finds it loaded. Errors surface in `play`."""

    def load() -> None:
        with contextlib.suppress(PlaybackError):
            _sounddevice()

    thread = threading.Thread(target=load, name="loosen-portaudio", daemon=True)
    thread.start()
    return thread


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


# ---------------------------------------------------------------- navigation (pure)
def current_step(spans: Sequence[StepSpan], frame: int) -> StepSpan | None:
    """The step playing at ``frame`` (the last one that started at or before it)."""
    found = None
    for span in spans:
        if span.start <= frame:
            found = span
        else:
            break
    return found


def previous_step_frame(spans: Sequence[StepSpan], frame: int, rate: int) -> int:
    """Where "previous" goes: the current step's start once more than 2 s into it, else the
    previous step's start."""
    span = current_step(spans, frame)
    if span is None:
        return 0
    if frame - span.start > RESTART_WITHIN_S * rate or span.index == 1:
        return span.start
    return spans[span.index - 2].start


def repeat_frame(events: Sequence[Event], frame: int) -> int | None:
    """The start of the last instruction spoken at or before ``frame``.

    Counts, countdown numbers and breath cues are not instructions: they sound inside a hold,
    rep or breath slot, so the line that introduced them is repeated instead.
    """
    slots = [e for e in events if e.kind in ("hold", "rep", "breath")]
    for event in reversed(events):
        if event.kind != "speech" or event.start > frame:
            continue
        if not any(s.start <= event.start < s.end for s in slots):
            return event.start
    return None


def remaining_words(seconds: float) -> str:
    """A spoken answer to "how long is left?", rounded as a person would say it."""
    if seconds < 60:
        return f"About {max(5, round(seconds / 5) * 5)} seconds left."
    minutes = round(seconds / 60)
    return "About one minute left." if minutes == 1 else f"About {minutes} minutes left."


def find_step(rendering: Rendering, wanted: str) -> int:
    """The 1-based index of the step named by ``wanted``: a number, a name, or ``name:side``."""
    steps = rendering.steps
    if wanted.isdigit():
        index = int(wanted)
        if 1 <= index <= len(steps):
            return index
        raise BadInputError(f"--from {wanted}: the session has steps 1 to {len(steps)}")
    name, _, side = wanted.partition(":")
    for step in steps:
        if (step.name or "").lower() == name.strip().lower() and (
            not side or (step.side or "").lower() == side.strip().lower()
        ):
            return step.index
    names = ", ".join(dict.fromkeys(s.name for s in steps if s.name))
    raise BadInputError(f"--from {wanted!r}: no such step; steps: {names}")


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
            events = rendering.events_between(0, t.position + 1)
            frame = repeat_frame(events, t.position)
            if frame is not None:
                t.seek(frame)
        elif key in ("+", "up"):
            t.gain = min(t.gain * 10 ** (VOLUME_STEP_DB / 20), 2.0)
        elif key in ("-", "down"):
            t.gain = max(t.gain / 10 ** (VOLUME_STEP_DB / 20), 0.01)
        elif key == "t" and rendering.finished:
            left_s = (rendering.timeline.total_frames - t.position) / self.rate
            t.say(rendering.clips.samples(remaining_words(left_s)))
        return True

    def status_text(self) -> str:
        t, rendering = self.transport, self.rendering
        span = current_step(rendering.spans, t.position)
        name = "starting"
        if span is not None:
            name = f"{span.index}/{len(rendering.steps)} {span.name or span.kind}"
            if span.side:
                name += f" ({span.side})"
        elapsed = t.position / self.rate
        total = "--:--"
        bar = " " * 20
        if rendering.finished:
            total_frames = rendering.timeline.total_frames
            total = format_length(total_frames / self.rate)
            done = round(20 * min(1.0, t.position / total_frames))
            bar = "#" * done + "-" * (20 - done)
        state = "Paused " if t.paused else "Playing"
        volume = 20 * math.log10(t.gain)
        level = f"  vol {volume:+.0f} dB" if abs(volume) > 0.1 else ""
        return f"{state} {name[:40]:<40} {format_length(elapsed)} / {total} [{bar}]{level}"


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
    sd = _sounddevice()
    device_index = _resolve_device(device)
    transport = Transport(rendering, start_frame=start_frame)
    session = _Session(rendering, transport, console)
    transport.start()
    first_block_s = None
    reason = "end"
    error: LoosenError | None = None
    stream = None
    try:
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
                console.status(session.status_text())
            stalled = time.monotonic() - session.last_fill > STALL_S
            if stalled and not transport.paused:
                raise PlaybackError("the audio output stopped (was the device removed?)")
        if session.layout_error is not None:
            raise session.layout_error
        if transport.error is not None:
            raise transport.error
    except KeyboardInterrupt:
        reason = "interrupted"
        transport.stop()
        transport.finished.wait(0.15)
    except PlaybackError as exc:
        reason, error = "error", exc
    finally:
        transport.close()
        if stream is not None:
            try:
                if reason == "error":
                    stream.abort()
                else:
                    stream.stop()  # let the device play what it holds, the fade-out included
                stream.close()
            except sd.PortAudioError:
                pass
    frame = transport.position
    return PlayResult(
        reason=reason,
        frame=frame,
        step=current_step(rendering.spans, frame),
        first_block_s=first_block_s,
        first_sound_at=transport.first_sound_at,
        underruns=transport.underruns,
        error=error,
    )
