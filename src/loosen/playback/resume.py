"""Where a listener stopped: saved on quit, Ctrl+C or a lost device, read by ``play --resume``.

The saved places are one small JSON file (`positions_file`), which anything may have damaged:
it is read as a user's file is (`loosen.files`: a regular file, never blocking, at most
`MAX_POSITIONS_BYTES`), and every place in it is checked before it is used. A file that cannot
be read, or a place that is not one, is `SavedPlacesError`, which ``play --resume`` says in one
line before it starts from the beginning. Writing goes through a temporary file that is renamed
over the old one, and removed whenever writing fails; a damaged file is replaced by the next
save. Nothing here stops a session: a folder that cannot be written is passed over.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loosen.atomic import atomic_file
from loosen.errors import LoosenError, ScriptError, shown, type_name
from loosen.files import read_regular
from loosen.script.limits import MAX_EXPANDED_STEPS, MAX_SESSION_H_CEILING, MAX_TEXT_CHARS

__all__ = [
    "MAX_POSITIONS_BYTES",
    "MAX_SAVED_PLACES",
    "SavedPlacesError",
    "SavedPosition",
    "clear_position",
    "load_position",
    "positions_file",
    "save_position",
]

STATE_DIR_ENV = "LOOSEN_STATE_DIR"
MAX_POSITIONS_BYTES = 1_000_000
MAX_SAVED_PLACES = 200  # the most recent sessions; 200 places of 4 kB paths fit the limit
_MAX_ADDRESS_CHARS = 2 * MAX_TEXT_CHARS + 20  # a step's name and its side, as typed


class SavedPlacesError(LoosenError):
    """The saved places cannot be read, or the one for a session is not a place; the message
    says why, naming the file."""


@dataclass(frozen=True)
class SavedPosition:
    """The step a listener was in (1-based index, name, and its address as the listener would
    type it, `loosen.plan.expand.Step.address`) and the exact time, in seconds."""

    step: int
    step_name: str | None
    time_s: float
    address: str = ""


def positions_file() -> Path:
    """The JSON file of saved positions: ``$LOOSEN_STATE_DIR`` or the user state folder."""
    override = os.environ.get(STATE_DIR_ENV)
    if override:
        return Path(override).expanduser() / "positions.json"
    import platformdirs

    return Path(platformdirs.user_state_dir("loosen")) / "positions.json"


def load_position(key: str) -> SavedPosition | None:
    """The saved position for the script ``key`` (its resolved path); None if nothing is saved.

    Raises
    ------
    SavedPlacesError
        When the file is there but cannot be read (not a regular file, too large, not JSON,
        nested too deep), or what it holds for ``key`` is not a place.
    """
    entry = _read().get(key)
    if entry is None:
        return None
    position = _position(entry)
    if position is None:
        raise SavedPlacesError(
            f"{positions_file()}: the place saved for this session is not one "
            f"({_what_is_wrong(entry)})"
        )
    return position


def save_position(key: str, position: SavedPosition) -> None:
    """Remember ``position`` for the script ``key``; the oldest of more than `MAX_SAVED_PLACES`
    places are forgotten. A damaged file is replaced."""
    data = _readable_places()
    data.pop(key, None)  # re-inserted last: the newest
    data[key] = {
        "step": position.step,
        "step_name": position.step_name,
        "time_s": position.time_s,
        "address": position.address,
    }
    while len(data) > MAX_SAVED_PLACES:
        del data[next(iter(data))]
    _write(data)


def _encoded(data: dict[str, Any]) -> bytes:
    """``data`` as the file's bytes, the oldest places left out until it fits the limit."""
    while True:
        encoded = json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8")
        if len(encoded) <= MAX_POSITIONS_BYTES or len(data) <= 1:
            return encoded
        del data[next(iter(data))]


def clear_position(key: str) -> None:
    """Forget the position for ``key`` (the session was heard to the end)."""
    data = _readable_places()
    if data.pop(key, None) is not None:
        _write(data)


def _read() -> dict[str, Any]:
    """What the file holds: a JSON object, its values not yet checked; empty if there is none."""
    path = positions_file()
    try:
        data = read_regular(path, MAX_POSITIONS_BYTES, "the saved places")
    except ScriptError as error:
        if not path.exists() and not path.is_symlink():
            return {}  # nothing saved yet
        raise SavedPlacesError(str(error)) from None
    try:
        document = json.loads(data.decode("utf-8"))
    except json.JSONDecodeError as error:
        raise SavedPlacesError(
            f"{path}: not JSON (line {error.lineno}, column {error.colno})"
        ) from None
    except UnicodeDecodeError:
        raise SavedPlacesError(f"{path}: not UTF-8 text") from None
    except ValueError:  # a number of more than 4300 digits
        raise SavedPlacesError(f"{path}: a number has too many digits") from None
    except RecursionError:
        raise SavedPlacesError(f"{path}: arrays or objects nested too deep") from None
    if not isinstance(document, dict):
        raise SavedPlacesError(f"{path}: not a JSON object of places")
    return document


def _readable_places() -> dict[str, Any]:
    """The places of the file that are places, for a change to it: none of a damaged file."""
    try:
        data = _read()
    except SavedPlacesError:
        return {}
    return {key: entry for key, entry in data.items() if _position(entry) is not None}


def _position(entry: object) -> SavedPosition | None:
    """``entry`` as a place if it is one: a step that a session can have, a time a session can
    reach, and texts of a step's length."""
    if not isinstance(entry, dict):
        return None
    step, name = entry.get("step"), entry.get("step_name")
    time_s, address = entry.get("time_s"), entry.get("address", "")
    if isinstance(step, bool) or not isinstance(step, int):
        return None
    if isinstance(time_s, bool) or not isinstance(time_s, int | float):
        return None
    if not 1 <= step <= MAX_EXPANDED_STEPS:
        return None
    if not (math.isfinite(time_s) and 0 <= time_s <= MAX_SESSION_H_CEILING * 3600):
        return None
    if not (name is None or (isinstance(name, str) and len(name) <= MAX_TEXT_CHARS)):
        return None
    if not isinstance(address, str) or len(address) > _MAX_ADDRESS_CHARS:
        return None
    return SavedPosition(step, name, float(time_s), address)


def _what_is_wrong(entry: object) -> str:
    """In a few words, why ``entry`` is not a place (for the message)."""
    if not isinstance(entry, dict):
        return f"it is {type_name(entry)}"
    step, time_s = entry.get("step"), entry.get("time_s")
    if isinstance(step, bool) or not isinstance(step, int) or not 1 <= step <= MAX_EXPANDED_STEPS:
        return f"step {shown(step)}"
    if isinstance(time_s, bool) or not isinstance(time_s, int | float):
        return f"time {shown(time_s)}"
    if not (math.isfinite(time_s) and 0 <= time_s <= MAX_SESSION_H_CEILING * 3600):
        return f"time {shown(time_s)}"
    return "its step's name or address"


def _write(data: dict[str, Any]) -> None:
    """Write ``data`` as the file: a temporary file beside it, renamed over it once complete;
    the temporary file is removed whatever fails. A failure is passed over (a read-only home
    must not spoil the session)."""
    path = positions_file()
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(path, "wb", private=True) as handle:
            handle.write(_encoded(data))
