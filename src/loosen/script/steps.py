"""The steps of a session script: a step as written (`ScriptStep`) and the reading of the
script's list of ``[[steps]]`` tables into them, every key checked against the key table
(`loosen.script.schema`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from loosen.errors import ScriptError, shown
from loosen.script import fields
from loosen.script.fields import Checker
from loosen.script.limits import MAX_REPEAT_DEPTH, count_expanded
from loosen.script.schema import REQUIRED_KEYS, STEP_KEYS, STEP_KINDS, unknown_key

__all__ = ["ScriptStep", "steps_from"]


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


def steps_from(
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
            message = unknown_key(key, set(spec) | common - {"kind"}) + f" for a {kind} step"
            if kind == "repeat" and key == "wait":
                message = "a repeat step does not wait; give wait to the first step it repeats"
            raise ScriptError(message, where=f"{label}, key {shown(key)}")
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
        children = steps_from(raw.get("steps"), path=path, depth=depth + 1, first_number=number)
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
                raise ScriptError(unknown_key(key, spec) + f" for a {step.kind} step", where=here)
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
