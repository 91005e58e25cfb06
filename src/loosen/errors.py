"""One family of user-facing exceptions; each carries the exit code the CLI returns.

Also the two helpers that keep a message one harmless line whatever a script contains:
`shown` (a value, cut short) and `printable` (control characters escaped).
"""

from __future__ import annotations

import datetime
from pathlib import Path

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_RUNTIME",
    "PHONE_EXTRA_HINT",
    "BadInputError",
    "BadValueError",
    "ExportError",
    "LoosenError",
    "NoMediaControlsError",
    "PlaybackError",
    "ScriptError",
    "SpeechError",
    "Terminated",
    "printable",
    "shown",
    "type_name",
]

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class Terminated(KeyboardInterrupt):
    """The process was told to stop by a signal (SIGTERM, SIGHUP): unwound like Ctrl+C (fades,
    positions saved, temporary files removed, the terminal restored), then the exit code is
    128 + the signal's number (143, 129)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


#: how to install what phones need (PyAV for .m4a, .m4b, .opus; the server of `loosen serve`)
PHONE_EXTRA_HINT = "pip install 'loosen[phone]'"


class LoosenError(Exception):
    """Base of every error `loosen` reports to a user; the message is one line."""

    exit_code = EXIT_RUNTIME


class BadInputError(LoosenError):
    """The user gave something unusable: a script, an option value, a voice name."""

    exit_code = EXIT_BAD_INPUT


class BadValueError(BadInputError):
    """A value the user gave is unusable: ``what`` names what it is ("pace", "setting",
    "step"), ``value`` is the value as given and ``reason`` says why.

    The message reads ``pace '9': the factor must be from 0.25 to 4``; a front end that knows
    which of its options carried the value names the option instead (``--pace 9: ...``).
    """

    def __init__(self, what: str, value: str, reason: str):
        self.what, self.value, self.reason = what, value, reason
        super().__init__(printable(f"{what} {shown(value, 80)}: {reason}"))


class ScriptError(BadInputError):
    """A session script (or sound recipe) is malformed.

    Parameters
    ----------
    message
        What is wrong, without the location.
    path
        The file at fault, if any.
    where
        The place inside it: ``"line 3, column 7"`` or ``"step 4 'dead bug', key 'count'"``.
    """

    def __init__(self, message: str, *, path: Path | str | None = None, where: str | None = None):
        self.message = message
        self.path = None if path is None else str(path)
        self.where = where
        super().__init__(self._one_line())

    def _one_line(self) -> str:
        parts = [p for p in (self.path, self.where) if p]
        location = ": ".join(parts)
        text = f"{location}: {self.message}" if location else self.message
        return printable(" ".join(text.split()))

    def located(self, path: Path | str) -> ScriptError:
        """Return a copy of this error that names ``path`` as the file at fault."""
        return ScriptError(self.message, path=path, where=self.where)


class SpeechError(LoosenError):
    """Text-to-speech failed at run time (engine missing, hung, crashed)."""


class ExportError(LoosenError):
    """Writing the audio file failed (disk full, permission denied, encoder error)."""


class PlaybackError(LoosenError):
    """Live playback failed: no PortAudio, no output device, or the device went away."""


class NoMediaControlsError(LoosenError):
    """No media controls of the desktop here (no backend for the platform, no session bus, a
    bus that refused): the message says why; the player plays on with its keys."""


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on (ESC, BEL, C1 controls, bidi
    overrides...) written as a Python escape such as ``\\x1b``: a script's bytes echoed in a
    message must not move the cursor, recolour the terminal or reorder what is shown."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def type_name(value: object) -> str:
    """What a TOML value is, in the words of a message: ``"text"``, ``"a list"``, ``"a date"``."""
    names: dict[type, str] = {
        str: "text",
        int: "a number",
        float: "a number",
        bool: "true/false",
        list: "a list",
        dict: "a table",
        datetime.datetime: "a date and time",
        datetime.date: "a date",
        datetime.time: "a time of day",
    }
    return names.get(type(value), type(value).__name__)


def shown(value: object, limit: int = 40) -> str:
    """``value`` as a message quotes it: text in quotes and numbers as written, both cut to about
    ``limit`` characters (a 10 MB value must not become a 10 MB message); other values by their
    type (``"a list"``), since a Python repr means nothing to the author of a script."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and value.bit_length() > 3 * limit:
        return f"a number of about {int(value.bit_length() * 0.30103)} digits"
    if isinstance(value, str):
        written = repr(value)
        return written if len(written) <= limit else written[: limit - 4] + "...'"
    if isinstance(value, int | float):
        written = repr(value)
        return written if len(written) <= limit else written[: limit - 3] + "..."
    return type_name(value)
