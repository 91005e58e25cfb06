"""Session scripts: the session model and TOML loading with validation (a spec table plus small
checks); its steps are read by `loosen.script.steps`.

A script is data. Loading checks every key against the key table (`loosen.script.schema`) and
turns durations into seconds; it evaluates nothing. Errors are `ScriptError` naming the file
and the place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from loosen.errors import ScriptError, shown
from loosen.files import read_regular
from loosen.script import fields
from loosen.script.fields import Checker
from loosen.script.library import bundled_scripts, resolve_script
from loosen.script.limits import MAX_REPEAT_DEPTH, MAX_SCRIPT_BYTES, check_session_size
from loosen.script.overrides import NumberedSteps, apply_overrides
from loosen.script.schema import (
    HEADER_KEYS,
    MIX_KEYS,
    PACING_KEYS,
    STEP_KINDS,
    TEMPLATE_KEYS,
    unknown_key,
)
from loosen.script.steps import ScriptStep, steps_from
from loosen.script.toml_input import decoded_text, parse_toml

__all__ = [
    "MAX_REPEAT_DEPTH",
    "MAX_SCRIPT_BYTES",
    "STEP_KINDS",
    "Mix",
    "Pacing",
    "Session",
    "bundled_scripts",
    "load_session",
    "parse_session",
    "resolve_script",
    "session_from_dict",
]


@dataclass(frozen=True)
class Pacing:
    """Session-wide timing defaults, all in seconds."""

    hold_s: float = 30.0
    rest_s: float = 5.0
    tense_s: float = 6.0
    release_s: float = 30.0
    gap_s: float = 1.0
    cadence_s: float = 2.0
    transition_s: float = 6.0
    reps: str = "low"
    inhale_s: float = 4.0
    breath_hold_s: float = 0.0
    exhale_s: float = 6.0
    wait_s: float = 5.0  # a step that waits for the listener: its pause in an export


@dataclass(frozen=True)
class Mix:
    """Levels of the three layers, in dB relative to their default level, and the ambience.

    ``ambience`` names an ambience recipe in audio_templates (None: no ambience).
    ``breath_tone`` adds a soft tone rising through each inhale and falling through each exhale.
    """

    voice_db: float = 0.0
    chime_db: float = 0.0
    ambience_db: float = 0.0
    ambience: str | None = None
    breath_tone: bool = False


@dataclass(frozen=True)
class Session:
    """A loaded session script."""

    title: str
    description: str
    steps: tuple[ScriptStep, ...]
    pacing: Pacing = Pacing()
    mix: Mix = Mix()
    templates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # wordings in turn
    cues: Mapping[str, str] = field(default_factory=dict)
    language: str | None = None
    voice: str | None = None
    rate_wpm: int | None = None
    path: Path | None = None

    @property
    def source_name(self) -> str:
        """The script's file name, or ``"<script>"`` for one parsed from text."""
        return self.path.name if self.path else "<script>"


def _dotted(table: str, key: str) -> str:
    """Where ``key`` of ``[table]`` is, for a message: ``pacing.hold``, or quoted if odd."""
    if re.fullmatch(r"[A-Za-z0-9_-]{1,40}", key):
        return f"{table}.{key}"
    return f"{table}.{shown(key)}"


# ---------------------------------------------------------------- loading
def load_session(
    name_or_path: str | Path,
    overrides: Sequence[str] = (),
    numbered: NumberedSteps | None = None,
) -> Session:
    """Load and validate a session script from a path or a session's name (bundled or the
    user's own), with ``overrides`` (settings, `loosen.script.overrides`) applied before validation;
    ``numbered`` places the expanded steps for settings that address a step by number."""
    path = resolve_script(name_or_path)
    data = read_regular(path, MAX_SCRIPT_BYTES, "a script")
    return parse_session(data, path=path, overrides=overrides, numbered=numbered)


def parse_session(
    data: bytes | str,
    *,
    path: Path | None = None,
    overrides: Sequence[str] = (),
    numbered: NumberedSteps | None = None,
) -> Session:
    """Parse and validate a script from its bytes (UTF-8) or text (see `load_session`); the
    TOML is read with the protections of `loosen.script.toml_input`."""
    where_file = path if path is not None else "<script>"
    text = decoded_text(data, where_file) if isinstance(data, bytes) else data
    document = parse_toml(text, where_file)
    if overrides:
        document = apply_overrides(document, overrides, numbered)
    try:
        session = session_from_dict(document)
    except ScriptError as error:
        raise error.located(where_file) from None
    return replace(session, path=path)


def session_from_dict(doc: dict[str, Any]) -> Session:
    """Validate a parsed TOML document (a dict) as a session; errors carry no file name.

    Checks the limits of `loosen.script.limits` too: nesting, counts, the number of steps once
    expanded and the session's length.
    """
    if not doc:
        raise ScriptError("the script is empty; it needs a title and a list of [[steps]]")
    for key in doc:
        if key not in HEADER_KEYS:
            raise ScriptError(unknown_key(key, HEADER_KEYS), where=f"key {shown(key)}")
    title = _header(doc, "title", fields.label_text, required=True)
    description = _header(doc, "description", fields.label_text) or ""
    language = _header(doc, "language", fields.language_tag)
    voice = _header(doc, "voice", fields.label_text)
    rate_wpm = _header(doc, "rate_wpm", fields.integer(80, 450))
    pacing = _pacing_from(_table(doc, "pacing"))
    mix = _mix_from(_table(doc, "mix"))
    templates = _templates_from(_table(doc, "templates"))
    cues = _cues_from(_table(doc, "cues"))
    steps_raw = doc.get("steps")
    if steps_raw is None:
        raise ScriptError("a script needs a list of [[steps]]", where="key 'steps'")
    steps = steps_from(steps_raw, path=(), depth=0, first_number=1)
    check_session_size(steps, pacing)
    return Session(
        title=title,
        description=description,
        steps=steps,
        pacing=pacing,
        mix=mix,
        templates=templates,
        cues=cues,
        language=language,
        voice=voice,
        rate_wpm=rate_wpm,
    )


def _header(doc: Mapping[str, Any], key: str, check: Checker, *, required: bool = False) -> Any:
    if key not in doc:
        if required:
            raise ScriptError(f"missing {key!r}", where="header")
        return None
    try:
        return check(doc[key])
    except ValueError as error:
        raise ScriptError(str(error), where=f"key {key!r}") from None


def _table(doc: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise ScriptError(
            f"expected a table [{key}], got {fields.type_name(value)}", where=f"key {key!r}"
        )
    return value


def _pacing_from(table: Mapping[str, Any]) -> Pacing:
    changes: dict[str, Any] = {}
    for key, value in table.items():
        if key not in PACING_KEYS:
            raise ScriptError(unknown_key(key, PACING_KEYS), where=_dotted("pacing", key))
        attribute, check = PACING_KEYS[key]
        try:
            changes[attribute] = check(value)
        except ValueError as error:
            raise ScriptError(str(error), where=_dotted("pacing", key)) from None
    return replace(Pacing(), **changes)


def _mix_from(table: Mapping[str, Any]) -> Mix:
    changes: dict[str, Any] = {}
    for key, value in table.items():
        if key not in MIX_KEYS:
            raise ScriptError(unknown_key(key, MIX_KEYS), where=_dotted("mix", key))
        try:
            changes[key] = MIX_KEYS[key](value)
        except ValueError as error:
            raise ScriptError(str(error), where=_dotted("mix", key)) from None
    return replace(Mix(), **changes)


def _templates_from(table: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    templates: dict[str, tuple[str, ...]] = {}
    for key, value in table.items():
        if key not in TEMPLATE_KEYS:
            raise ScriptError(unknown_key(key, TEMPLATE_KEYS), where=_dotted("templates", key))
        try:
            templates[key] = fields.wordings(value)
        except ValueError as error:
            raise ScriptError(str(error), where=_dotted("templates", key)) from None
    return templates


def _cues_from(table: Mapping[str, Any]) -> dict[str, str]:
    cues: dict[str, str] = {}
    for key, value in table.items():
        try:
            cues[key] = fields.cue_source(value)
        except ValueError as error:
            raise ScriptError(str(error), where=_dotted("cues", key)) from None
    return cues
