"""Where session scripts come from: the bundled ones, and the user's own scripts folder.

A script is named on the command line by its path, or by its name (file stem): the user's own
scripts come first, so an edited copy made with `loosen new` is found under the same name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from loosen.errors import ScriptError
from loosen.resources import bundled_dir

__all__ = [
    "SCRIPTS_DIR_ENV",
    "ScriptEntry",
    "bundled_scripts",
    "find_scripts",
    "resolve_script",
    "user_scripts_dir",
]

SCRIPTS_DIR_ENV = "LOOSEN_SCRIPTS_DIR"


@dataclass(frozen=True)
class ScriptEntry:
    """A script found by name: its file and where it comes from (``"bundled"`` or ``"yours"``)."""

    name: str
    path: Path
    origin: str


def user_scripts_dir() -> Path:
    """The user's scripts folder: ``$LOOSEN_SCRIPTS_DIR`` or the user data folder."""
    override = os.environ.get(SCRIPTS_DIR_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("loosen")) / "scripts"


def bundled_scripts() -> dict[str, Path]:
    """The bundled session scripts by name (file stem)."""
    return {p.stem: p for p in sorted(bundled_dir("scripts").glob("*.toml"))}


def find_scripts() -> dict[str, ScriptEntry]:
    """Every script known by name, the user's own shadowing a bundled one of the same name."""
    found = {name: ScriptEntry(name, path, "bundled") for name, path in bundled_scripts().items()}
    folder = user_scripts_dir()
    if folder.is_dir():
        for path in sorted(folder.glob("*.toml")):
            if path.is_file():
                found[path.stem] = ScriptEntry(path.stem, path, "yours")
    return dict(sorted(found.items()))


def resolve_script(name_or_path: str | Path) -> Path:
    """The file of a script given as a path or as a name (the user's own, then bundled).

    A folder is never a script: a bare name (no suffix, no folder) that names a session finds
    the session even where a folder of that name exists, such as the one `loosen export NAME
    --split` writes by default.
    """
    path = Path(name_or_path)
    text = str(name_or_path)
    bare = not path.suffix and "/" not in text and "\\" not in text
    try:
        if path.is_file():
            return path
        folder = path.is_dir()
        if path.exists() and not folder:  # a device, a pipe or a socket: reading it could block
            raise ScriptError("is not a regular file, not a session script", path=path)
    except OSError as error:  # a name too long for the file system, for one
        raise ScriptError(f"cannot read: {error.strerror or error}", path=path) from None
    if bare:
        entry = find_scripts().get(text)
        if entry is not None:
            return entry.path
    if folder:
        raise ScriptError("is a folder, not a session script", path=path)
    if bare:
        names = ", ".join(find_scripts())
        raise ScriptError(f"no script file or session named {text!r}; sessions: {names}")
    raise ScriptError("no such file", path=path)
