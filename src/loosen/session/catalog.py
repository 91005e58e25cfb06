"""What a front end offers before it renders anything: the sessions (named on its command line,
or the whole library), each with its title and length, the speech engine's voices and the pacing
presets. Nothing here synthesizes speech; a length is exact once the session's speech is in the
speech cache (`length_without_speaking`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from loosen.errors import BadInputError

__all__ = [
    "SessionEntry",
    "SessionSummary",
    "describe_session",
    "find_sessions",
    "pace_presets",
    "session_voices",
]


@dataclass(frozen=True)
class SessionEntry:
    """A session a front end offers: its ``name`` (the file's stem), its script file, where it
    comes from (``"bundled"``, ``"yours"`` or ``"given"``: named by path) and the SHA-256 of the
    script's bytes, which changes when the script is edited."""

    name: str
    path: Path
    origin: str
    digest: str


def find_sessions(scripts: Sequence[str] = ()) -> list[SessionEntry]:
    """The sessions ``scripts`` names (paths or names, in order; a name twice is one session),
    or with none every session of the library (bundled and the user's own), by name.

    Read afresh on every call, so a script added or edited since is found as it now is. Raises
    `ScriptError` for a script that cannot be found or read, and `BadInputError` for two
    different files of one name (their addresses would clash).
    """
    from loosen.files import read_regular
    from loosen.script.library import find_scripts, resolve_script
    from loosen.script.limits import MAX_SCRIPT_BYTES

    if scripts:
        found = [(resolve_script(script), "given") for script in scripts]
    else:
        found = [(entry.path, entry.origin) for entry in find_scripts().values()]
    entries: dict[str, SessionEntry] = {}
    for path, origin in found:
        data = read_regular(path, MAX_SCRIPT_BYTES, "script")
        entry = SessionEntry(path.stem, path, origin, hashlib.sha256(data).hexdigest())
        before = entries.get(entry.name)
        if before is not None and before.path.resolve() != path.resolve():
            raise BadInputError(
                f"{before.path} and {path} are both called {entry.name!r}; rename one"
            )
        entries[entry.name] = entry
    return list(entries.values())


@dataclass(frozen=True)
class SessionSummary:
    """What a list of sessions shows: the title, the description, the language tag (None: the
    engine's default), and the length in seconds, ``exact`` once its speech is in the cache."""

    title: str
    description: str
    language: str | None
    length_s: float
    exact: bool


def describe_session(script: str | Path, engine: str | None = None) -> SessionSummary:
    """The summary of ``script`` (a name or a path), without synthesizing anything (see
    `loosen.session.opening.length_without_speaking` for the length)."""
    from loosen.script.loading import load_session
    from loosen.session.opening import length_without_speaking

    session = load_session(str(script))
    title, length = length_without_speaking(script, engine)
    return SessionSummary(
        title, session.description, session.language, length.seconds, length.exact
    )


def session_voices(engine: str | None = None) -> list[tuple[str, str]]:
    """The voices of ``engine`` (None: the config file's, else the default engine) as
    ``(id, name)`` pairs, in the engine's order."""
    from loosen.config import load_defaults
    from loosen.session.choices import DEFAULT_ENGINE
    from loosen.tts import open_engine

    with open_engine(engine or load_defaults().engine or DEFAULT_ENGINE) as speech_engine:
        return [(info.id, info.name) for info in speech_engine.voices()]


def pace_presets() -> list[tuple[str, str]]:
    """The pacing presets as ``(name, description)`` pairs: what ``SessionOptions.pace`` takes
    by name."""
    from loosen.plan.pace import load_presets

    return [(preset.name, preset.description) for preset in load_presets().values()]
