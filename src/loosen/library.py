"""Where session scripts come from: the bundled ones, and the user's own scripts folder.

A script is named on the command line by its path, or by its name (file stem): the user's own
scripts come first, so an edited copy made with `loosen new` is found under the same name.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from loosen.errors import BadInputError, ScriptError
from loosen.resources import bundled_dir

__all__ = [
    "SCRIPTS_DIR_ENV",
    "ScriptEntry",
    "bundled_scripts",
    "find_scripts",
    "new_script",
    "resolve_script",
    "user_scripts_dir",
]

SCRIPTS_DIR_ENV = "LOOSEN_SCRIPTS_DIR"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")


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
    """The file of a script given as a path or as a name (the user's own, then bundled)."""
    path = Path(name_or_path)
    try:
        if path.is_dir():
            raise ScriptError("is a folder, not a session script", path=path)
        if path.is_file():
            return path
        if path.exists():  # a device, a pipe or a socket: reading it could block or never end
            raise ScriptError("is not a regular file, not a session script", path=path)
    except OSError as error:  # a name too long for the file system, for one
        raise ScriptError(f"cannot read: {error.strerror or error}", path=path) from None
    text = str(name_or_path)
    if not path.suffix and "/" not in text and "\\" not in text:
        entry = find_scripts().get(text)
        if entry is not None:
            return entry.path
        names = ", ".join(find_scripts())
        raise ScriptError(f"no script file or session named {text!r}; sessions: {names}")
    raise ScriptError("no such file", path=path)


def new_script(name: str, source: str) -> Path:
    """Copy the session ``source`` (a name or a path) to the user's folder as ``name``.toml.

    Refuses names that are not plain file names and never overwrites an existing script.
    """
    if not _NAME.fullmatch(name) or name.endswith(".toml"):
        raise BadInputError(
            f"{name!r} is not a usable script name: use letters, digits, spaces, '-', '_' or "
            "'.', without the .toml"
        )
    origin = resolve_script(source)
    folder = user_scripts_dir()
    target = folder / f"{name}.toml"
    if target.exists():
        raise BadInputError(f"{target} already exists; edit it, or choose another name")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temp = folder / f".{name}.toml.part"
        shutil.copyfile(origin, temp)
        temp.replace(target)
    except OSError as error:
        raise BadInputError(f"cannot write {target}: {error.strerror or error}") from None
    return target
