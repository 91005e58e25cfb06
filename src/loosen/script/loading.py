"""Session scripts: the model and TOML loading with validation (a spec table plus small checks).

A script is data. Loading checks every key against the table below and turns durations into
seconds; it evaluates nothing. Errors are `ScriptError` naming the file and the place.
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
from loosen.script.limits import (
    MAX_REPEAT_DEPTH,
    MAX_SCRIPT_BYTES,
    check_session_size,
    count_expanded,
)
from loosen.script.overrides import NumberedSteps, apply_overrides
from loosen.script.schema import (
    HEADER_KEYS,
    MIX_KEYS,
    PACING_KEYS,
    REQUIRED_KEYS,
    STEP_KEYS,
    STEP_KINDS,
    TEMPLATE_KEYS,
)
from loosen.script.toml_input import decoded_text, parse_toml

__all__ = [
    "MAX_REPEAT_DEPTH",
    "MAX_SCRIPT_BYTES",
    "STEP_KINDS",
    "Mix",
    "Pacing",
    "ScriptStep",
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
class ScriptStep:
    """One step as written in the script, validated but not yet expanded.

    ``values`` holds the kind's keys with durations already in seconds (float), counts as int
    or an inclusive ``(low, high)`` range, texts as str; ``side_values`` what a side changes of
    them (a script's ``per_side`` table: ``{"left": {"seconds": 40.0}}``). ``label`` names the
    step in errors by the number `loosen show` gives its first copy. ``path`` is where it stands
    in the document: its 0-based position in ``steps``, then in its repeat block's, and so on.
    """

    kind: str
    label: str
    name: str | None = None
    sides: tuple[str, str] | None = None
    switch_text: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    side_values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    children: tuple[ScriptStep, ...] = ()
    path: tuple[int, ...] = ()

    def values_for(self, side: str | None) -> Mapping[str, Any]:
        """The step's values for the copy played on ``side`` (None: a step without sides)."""
        changes = self.side_values.get(side, {}) if side is not None else {}
        return {**self.values, **changes} if changes else self.values


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


def _unknown_key(key: str, allowed: Any) -> str:
    return f"unknown key {shown(key)}; allowed: {', '.join(sorted(allowed))}"


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
            raise ScriptError(_unknown_key(key, HEADER_KEYS), where=f"key {shown(key)}")
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
    steps = _steps_from(steps_raw, path=(), depth=0, first_number=1)
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
            raise ScriptError(_unknown_key(key, PACING_KEYS), where=_dotted("pacing", key))
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
            raise ScriptError(_unknown_key(key, MIX_KEYS), where=_dotted("mix", key))
        try:
            changes[key] = MIX_KEYS[key](value)
        except ValueError as error:
            raise ScriptError(str(error), where=_dotted("mix", key)) from None
    return replace(Mix(), **changes)


def _templates_from(table: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    templates: dict[str, tuple[str, ...]] = {}
    for key, value in table.items():
        if key not in TEMPLATE_KEYS:
            raise ScriptError(_unknown_key(key, TEMPLATE_KEYS), where=_dotted("templates", key))
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


def _steps_from(
    raw: object, *, path: tuple[int, ...], depth: int, first_number: int
) -> tuple[ScriptStep, ...]:
    """The steps of the list ``raw`` at ``path`` in the document; ``first_number`` is the
    number `loosen show` gives the first step they expand to (the labels use those numbers)."""
    where = _label(first_number, path) if path else "key 'steps'"
    if depth > MAX_REPEAT_DEPTH:  # depth: how many repeat steps hold these steps
        raise ScriptError(
            f"repeat blocks nest deeper than the limit of {MAX_REPEAT_DEPTH}", where=where
        )
    if not isinstance(raw, list) or not raw:
        raise ScriptError("expected a non-empty list of steps ([[steps]] tables)", where=where)
    steps = []
    number = first_number
    for position, item in enumerate(raw):
        step = _step_from(item, (*path, position), depth, number)
        steps.append(step)
        number += count_expanded([step])
    return tuple(steps)


def _label(number: int, path: tuple[int, ...], name: object = None) -> str:
    """A step in a message: its number as `loosen show` counts, its name, and where it is in
    the file when that differs (sides and repeats before it make more steps than tables)."""
    in_file = ".".join(str(position + 1) for position in path)
    label = f"step {number}" + (f" {shown(name)}" if isinstance(name, str) else "")
    return label if in_file == str(number) else f"{label} ([[steps]] table {in_file})"


def _step_from(raw: object, path: tuple[int, ...], depth: int, number: int) -> ScriptStep:
    if not isinstance(raw, dict):
        raise ScriptError(
            f"expected a table, got {fields.type_name(raw)}", where=_label(number, path)
        )
    label = _label(number, path, raw.get("name"))
    kind = raw.get("kind")
    if kind is None:
        raise ScriptError(f"missing 'kind' (one of {', '.join(STEP_KINDS)})", where=label)
    if kind not in STEP_KINDS:
        what = f"unknown kind {shown(kind)}" if isinstance(kind, str) else f"kind is {shown(kind)}"
        raise ScriptError(f"{what}; kinds: {', '.join(STEP_KINDS)}", where=f"{label}, key 'kind'")
    spec = STEP_KEYS[kind]
    common = {"kind", "name", "sides", "switch_text", "per_side"}
    common |= {"steps"} if kind == "repeat" else set()
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in common:
            continue
        if key not in spec:
            raise ScriptError(
                _unknown_key(key, set(spec) | common - {"kind"}) + f" for a {kind} step",
                where=f"{label}, key {shown(key)}",
            )
        values[key] = _checked(spec, key, value, f"{label}, key {key!r}")
    for key in REQUIRED_KEYS.get(kind, ()):
        if key not in values:
            raise ScriptError(f"a {kind} step needs {key!r}", where=label)
    step = ScriptStep(
        kind=kind,
        label=label,
        name=_optional(raw, "name", fields.label_text, label),
        sides=_optional(raw, "sides", fields.sides, label),
        switch_text=_optional(raw, "switch_text", fields.text, label),
        values=values,
        path=path,
    )
    if step.switch_text is not None and step.sides is None:
        raise ScriptError("switch_text needs sides", where=f"{label}, key 'switch_text'")
    if "per_side" in raw:
        step = replace(step, side_values=_side_values(raw["per_side"], step, spec))
    if kind == "repeat":
        children = _steps_from(raw.get("steps"), path=path, depth=depth + 1, first_number=number)
        step = replace(step, children=children)
    return step


def _checked(spec: Mapping[str, Checker], key: str, value: object, where: str) -> Any:
    try:
        return spec[key](value)
    except ValueError as error:
        raise ScriptError(str(error), where=where) from None


def _side_values(
    raw: object, step: ScriptStep, spec: Mapping[str, Checker]
) -> dict[str, dict[str, Any]]:
    """A step's ``per_side`` table: for a side, the values that differ on it."""
    where = f"{step.label}, key 'per_side'"
    if step.sides is None:
        raise ScriptError("per_side needs sides", where=where)
    if not isinstance(raw, dict):
        raise ScriptError(
            f"expected a table of sides, such as per_side.left, got {fields.type_name(raw)}",
            where=where,
        )
    side_values: dict[str, dict[str, Any]] = {}
    for side, table in raw.items():
        if side not in step.sides:
            raise ScriptError(
                f"{shown(side)} is not one of the step's sides ({', '.join(step.sides)})",
                where=where,
            )
        if not isinstance(table, dict):
            raise ScriptError(
                f"expected a table of values, got {fields.type_name(table)}",
                where=f"{where}, side {shown(side)}",
            )
        changes = {}
        for key, value in table.items():
            here = f"{where}, side {shown(side)}, key {shown(key)}"
            if key not in spec:
                raise ScriptError(_unknown_key(key, spec) + f" for a {step.kind} step", where=here)
            changes[key] = _checked(spec, key, value, here)
        side_values[side] = changes
    return side_values


def _optional(raw: Mapping[str, Any], key: str, check: Checker, label: str) -> Any:
    if key not in raw:
        return None
    try:
        return check(raw[key])
    except ValueError as error:
        raise ScriptError(str(error), where=f"{label}, key {key!r}") from None
