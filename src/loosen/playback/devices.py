"""The audio devices: sounddevice loaded (the only module that imports it), the output devices
listed and looked up, and PortAudio's native noise kept off the terminal."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from types import ModuleType

from loosen.errors import BadInputError, PlaybackError

__all__ = ["list_devices", "load_sounddevice", "native_stderr_silenced", "resolve_device"]


def load_sounddevice() -> ModuleType:
    """The sounddevice module (`PlaybackError` where PortAudio is missing)."""
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
    sd = load_sounddevice()
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


def resolve_device(device: str | None) -> int | None:
    """The index of the output device ``device`` names (an index, or part of its name; None:
    the default); `BadInputError` naming the devices there are."""
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
