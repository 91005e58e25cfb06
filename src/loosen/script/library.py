"""Where session scripts come from: the bundled ones, and the user's own scripts folder.

A script is named on the command line by its path, or by its name (file stem): the user's own
scripts come first, so an edited copy made with `loosen new` is found under the same name.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from loosen.atomic import write_bytes_atomic, write_error
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


def new_script(name: str, source: str, *, hide_bundled: bool = False) -> Path:
    """Copy the session ``source`` (a name or a path) to the user's folder as ``name``.toml.

    Refuses names that are not plain file names, the name of a bundled session (which the copy
    would hide) unless ``hide_bundled``, and a ``source`` that is not a valid script (its
    `ScriptError`: nothing is written); never overwrites an existing script.
    """
    if not _NAME.fullmatch(name) or name.endswith(".toml"):
        raise BadInputError(
            f"{name!r} is not a usable script name: use letters, digits, spaces, '-', '_' or "
            "'.', without the .toml"
        )
    if name in bundled_scripts() and not hide_bundled:
        raise BadInputError(
            f"{name!r} is a bundled session, which a script of yours by that name would hide; "
            "choose another name, or ask to hide it (hide_bundled)"
        )
    origin = resolve_script(source)
    folder = user_scripts_dir()
    target = folder / f"{name}.toml"
    if target.exists():
        raise BadInputError(f"{target} already exists; edit it, or choose another name")
    data = _valid_script(origin)  # the bytes that were checked, not the file as it is now
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise write_error(target, "the script", error, BadInputError) from None
    write_bytes_atomic(target, data, what="the script", error=BadInputError)
    return target


def _valid_script(path: Path) -> bytes:
    """The bytes of the script ``path``, once they load and expand as a session: a copy to edit
    starts from a script that works."""
    # imported here: the script's loader finds scripts through this module
    from loosen.files import read_regular
    from loosen.plan.expand import expand_session
    from loosen.script.limits import MAX_SCRIPT_BYTES
    from loosen.script.loading import parse_session

    data = read_regular(path, MAX_SCRIPT_BYTES, "a script")
    expand_session(parse_session(data, path=path))
    return data
