"""A copy of a session in the user's own scripts folder, to edit (``loosen new``): the copy is
checked to load and expand as a session before it is written, so it starts from a script that
works, and it is then found by its name (`loosen.script.library`)."""

from __future__ import annotations

import re
from pathlib import Path

from loosen.atomic import write_bytes_atomic, write_error
from loosen.errors import BadInputError
from loosen.files import read_regular
from loosen.plan.expand import expand_session
from loosen.script.library import bundled_scripts, resolve_script, user_scripts_dir
from loosen.script.limits import MAX_SCRIPT_BYTES
from loosen.script.loading import parse_session

__all__ = ["new_script"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")


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
    data = read_regular(path, MAX_SCRIPT_BYTES, "a script")
    expand_session(parse_session(data, path=path))
    return data
