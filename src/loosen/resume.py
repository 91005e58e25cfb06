"""Where a listener stopped: saved on quit, Ctrl+C or a lost device, read by ``play --resume``."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["SavedPosition", "clear_position", "load_position", "positions_file", "save_position"]

STATE_DIR_ENV = "LOOSEN_STATE_DIR"


@dataclass(frozen=True)
class SavedPosition:
    """The step a listener was in (1-based index, name, and its address as the listener would
    type it, `loosen.expand.Step.address`) and the exact time, in seconds."""

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


def _read() -> dict[str, Any]:
    try:
        data = json.loads(positions_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # missing or damaged: nothing to resume, never an error
    return data if isinstance(data, dict) else {}


def _write(data: dict[str, Any]) -> None:
    path = positions_file()
    with contextlib.suppress(OSError):  # a read-only home must not spoil the session
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".positions.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1)
        Path(temp).replace(path)


def load_position(key: str) -> SavedPosition | None:
    """The saved position for the script ``key`` (its resolved path), if any."""
    entry = _read().get(key)
    if not isinstance(entry, dict):
        return None
    try:
        return SavedPosition(
            int(entry["step"]),
            entry.get("step_name"),
            float(entry["time_s"]),
            str(entry.get("address", "")),
        )
    except (KeyError, TypeError, ValueError):
        return None


def save_position(key: str, position: SavedPosition) -> None:
    """Remember ``position`` for the script ``key``."""
    data = _read()
    data[key] = {
        "step": position.step,
        "step_name": position.step_name,
        "time_s": position.time_s,
        "address": position.address,
    }
    _write(data)


def clear_position(key: str) -> None:
    """Forget the position for ``key`` (the session was heard to the end)."""
    data = _read()
    if data.pop(key, None) is not None:
        _write(data)
