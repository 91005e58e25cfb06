"""Single keys, no Enter, as key names: the decoding of what terminals send, and `KeyReader`.

The decoding is pure (tested on any system); reading a terminal is the platform's part, in
`loosen.playback.terminal_keys` (`single_keys`: termios on POSIX, msvcrt's console on Windows),
which decodes with this module and never the other way round.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["KEY_NAMES", "KeyReader", "decode_keys", "decode_windows_keys"]

_SEQUENCES = {
    "\x1b[C": "right",
    "\x1b[D": "left",
    "\x1b[A": "up",
    "\x1b[B": "down",
    "\x1bOC": "right",
    "\x1bOD": "left",
    "\x1bOA": "up",
    "\x1bOB": "down",
}
_SINGLE = {" ": "space", "\r": "enter", "\n": "enter", "\x1b": "escape", "=": "+", "_": "-"}
KEY_NAMES = ("space", "right", "left", "up", "down", "enter", "escape")
# msvcrt.getwch: a special key comes as one of these prefixes, then its scan code
_WINDOWS_PREFIXES = ("\x00", "\xe0")
_WINDOWS_SCAN_CODES = {"H": "up", "P": "down", "K": "left", "M": "right"}


class KeyReader(Protocol):
    """Key names from a terminal put in single-key mode by
    `loosen.playback.terminal_keys.single_keys`.

    ``resumed_at`` is the ``time.monotonic()`` of the last return from a Ctrl+Z (0 if none): the
    process was stopped until then, and nothing it waits for (the audio callback) ran.
    """

    resumed_at: float

    def read(self, timeout_s: float) -> list[str]:
        """Keys pressed within ``timeout_s`` seconds (an empty list if none)."""
        ...


def _single(char: str) -> str:
    return _SINGLE.get(char, char.lower())


def decode_keys(text: str) -> list[str]:
    """Turn raw terminal input into key names (``"space"``, ``"right"``, ``"q"``, ...).

    Letters are lower-cased so Caps Lock does not matter to someone with their eyes closed;
    ``=`` counts as ``+`` (the same key without Shift) and ``_`` as ``-``.
    """
    keys: list[str] = []
    i = 0
    while i < len(text):
        for sequence, name in _SEQUENCES.items():
            if text.startswith(sequence, i):
                keys.append(name)
                i += len(sequence)
                break
        else:
            char = text[i]
            if char == "\x1b" and text.startswith("\x1b[", i):
                # an unknown escape sequence: skip it up to its final letter
                j = i + 2
                while j < len(text) and not text[j].isalpha() and text[j] != "~":
                    j += 1
                i = j + 1
                continue
            keys.append(_single(char))
            i += 1
    return keys


def decode_windows_keys(chars: str) -> list[str]:
    """Turn what ``msvcrt.getwch`` returned into the key names `decode_keys` gives.

    A special key is a prefix (``"\\x00"`` or ``"\\xe0"``) and a scan code: the arrows become
    ``"up"``, ``"down"``, ``"left"``, ``"right"``; any other (F1, Home...) is skipped, as is a
    prefix with nothing after it. Other characters are read as `decode_keys` reads them.
    """
    keys: list[str] = []
    i = 0
    while i < len(chars):
        char = chars[i]
        if char in _WINDOWS_PREFIXES:
            code = chars[i + 1 : i + 2]
            if code in _WINDOWS_SCAN_CODES:
                keys.append(_WINDOWS_SCAN_CODES[code])
            i += 2
            continue
        keys.append(_single(char))
        i += 1
    return keys
