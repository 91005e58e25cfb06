"""One family of user-facing exceptions; each carries the exit code the CLI returns."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_RUNTIME",
    "BadInputError",
    "ExportError",
    "LoosenError",
    "PlaybackError",
    "ScriptError",
    "SpeechError",
]

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class LoosenError(Exception):
    """Base of every error `loosen` reports to a user; the message is one line."""

    exit_code = EXIT_RUNTIME


class BadInputError(LoosenError):
    """The user gave something unusable: a script, an option value, a voice name."""

    exit_code = EXIT_BAD_INPUT


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
        return " ".join(text.split())

    def located(self, path: Path | str) -> ScriptError:
        """Return a copy of this error that names ``path`` as the file at fault."""
        return ScriptError(self.message, path=path, where=self.where)


class SpeechError(LoosenError):
    """Text-to-speech failed at run time (engine missing, hung, crashed)."""


class ExportError(LoosenError):
    """Writing the audio file failed (disk full, permission denied, encoder error)."""


class PlaybackError(LoosenError):
    """Live playback failed: no PortAudio, no output device, or the device went away."""
