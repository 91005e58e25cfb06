"""Settings: change a step's, the pacing's or the mix's value without editing the script
(``STEP.KEY=VALUE``). Applied to the parsed TOML document before the script is validated, so
the session is built exactly as if the script had said it; each value is checked first, with
the checker the script's own value would meet, so a bad value is blamed on the setting, never
on the script file.

``STEP`` is a step address (`loosen.plan.addresses`): a name or its unique start (every step of that
name, both sides and every round of a repeat), ``name (side)`` (that side only: the script's
``per_side`` table), a repeat block's name (the block itself: ``cycle.times=3``), or the number
`loosen show` gives a step (that copy's side; every round, if it lies in a repeat block).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from loosen.errors import BadValueError, shown
from loosen.plan.addresses import parse_address
from loosen.script.fields import Checker
from loosen.script.schema import KEY_ALIASES, MIX_KEYS, PACING_KEYS, STEP_KEYS

__all__ = ["SETTING", "apply_overrides", "check_table_value", "parse_value"]

SETTING = "setting"  # what a `BadValueError` of this module is about
_TABLES = ("pacing", "mix")

#: For a number address: the expanded step's script path (`ScriptStep.path`) and side.
NumberedSteps = Callable[[], Sequence[tuple[tuple[int, ...], str | None]]]


def parse_value(text: str) -> object:
    """A value as TOML would read it: a whole number, a number, true/false, text."""
    stripped = text.strip()
    for convert in (int, float):
        try:
            return convert(stripped)
        except ValueError:
            pass
    if stripped in ("true", "false"):
        return stripped == "true"
    return stripped.strip("\"'")


def check_table_value(table: str, key: str, value: object, *, what: str, given: str) -> object:
    """``value`` for ``[table] key`` (``pacing`` or ``mix``) in canonical form, or a
    `BadValueError` about ``what`` (as the user ``given`` it)."""
    checks: dict[str, Checker] = (
        {name: check for name, (_, check) in PACING_KEYS.items()} if table == "pacing" else MIX_KEYS
    )
    if key not in checks:
        raise BadValueError(what, given, f"[{table}] has no {key!r}; keys: {', '.join(checks)}")
    check = checks[key]
    try:
        return check(value)
    except ValueError as error:
        raise BadValueError(what, given, str(error)) from None


@dataclass(frozen=True)
class _Table:
    """A step table of the document, and what an address matches it by."""

    table: dict[str, Any]
    path: tuple[int, ...]
    name: str | None
    sides: tuple[str, ...]
    kind: str


def apply_overrides(
    document: dict[str, Any], overrides: Sequence[str], numbered: NumberedSteps | None = None
) -> dict[str, Any]:
    """Return a copy of the script ``document`` with each ``STEP.KEY=VALUE``,
    ``pacing.KEY=VALUE`` or ``mix.KEY=VALUE`` setting applied.

    ``numbered`` gives the expanded steps' places, for settings that address a step by number.
    Raises `BadValueError` (about a ``"setting"``) naming an unknown step or key, or a bad value.
    """
    result = copy.deepcopy(document)
    for assignment in overrides:
        _apply(result, assignment, numbered)
    return result


def _apply(document: dict[str, Any], assignment: str, numbered: NumberedSteps | None) -> None:
    left, equals, written = assignment.partition("=")
    target, dot, key = left.strip().rpartition(".")
    key = key.strip()
    if not equals or not dot or not target.strip() or not key:
        raise BadValueError(
            SETTING,
            assignment,
            'write STEP.KEY=VALUE, such as "dead bug.count=20" or pacing.release=35s',
        )
    value = parse_value(written)
    if target.strip() in _TABLES:
        table = document.setdefault(target.strip(), {})
        if not isinstance(table, dict):
            raise BadValueError(SETTING, assignment, f"the script's [{target}] is not a table")
        # the canonical value is checked again with the rest of the script
        check_table_value(target.strip(), key, value, what=SETTING, given=assignment)
        table[key] = value
        return
    tables = list(_step_tables(document.get("steps"), ()))
    for found, side in _addressed(tables, target, assignment, numbered):
        real_key = KEY_ALIASES.get(found.kind, {}).get(key, key)
        spec = STEP_KEYS.get(found.kind, {})
        if real_key not in spec:
            known = ", ".join(sorted(set(spec) | set(KEY_ALIASES.get(found.kind, {}))))
            raise BadValueError(
                SETTING, assignment, f"a {found.kind} step has no {key!r}; keys: {known}"
            )
        try:
            spec[real_key](value)
        except ValueError as error:
            raise BadValueError(SETTING, assignment, str(error)) from None
        if side is None:
            found.table[real_key] = value
            continue
        per_side = found.table.setdefault("per_side", {})
        if not isinstance(per_side, dict) or not isinstance(per_side.setdefault(side, {}), dict):
            raise BadValueError(SETTING, assignment, "the script's per_side is not a table")
        per_side[side][real_key] = value


def _step_tables(steps: object, path: tuple[int, ...]) -> Iterator[_Table]:
    if not isinstance(steps, list):
        return
    for position, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        name = step.get("name")
        sides = step.get("sides")
        yield _Table(
            step,
            (*path, position),
            name if isinstance(name, str) else None,
            tuple(s for s in sides if isinstance(s, str)) if isinstance(sides, list) else (),
            str(step.get("kind")),
        )
        yield from _step_tables(step.get("steps"), (*path, position))


def _addressed(
    tables: list[_Table], target: str, assignment: str, numbered: NumberedSteps | None
) -> list[tuple[_Table, str | None]]:
    """The step tables ``target`` addresses, each with the side the setting is for (None: all)."""
    names = [t.name for t in tables if t.name]
    sides = {side for t in tables for side in t.sides}
    try:
        address = parse_address(target, names, sides, what=SETTING)
    except BadValueError as error:
        raise BadValueError(SETTING, assignment, error.reason) from None
    if address.number is not None:
        places = numbered() if numbered is not None else ()
        if not 1 <= address.number <= len(places):
            reason = f"the session has steps 1 to {len(places)}" if places else "no such step"
            raise BadValueError(SETTING, assignment, reason)
        path, side = places[address.number - 1]
        found = [t for t in tables if t.path == path]
        return [(t, side if side in t.sides else None) for t in found]
    matched = [t for t in tables if t.name == address.name]
    if address.side is not None:
        matched = [t for t in matched if address.side in t.sides]
        if not matched:
            reason = f"{shown(address.name)} has no {address.side} side"
            raise BadValueError(SETTING, assignment, reason)
    return [(t, address.side) for t in matched]
