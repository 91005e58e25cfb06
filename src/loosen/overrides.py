"""``--set`` overrides: change a step's or the pacing's value from the command line, without
editing the script. Applied to the parsed TOML document before validation, so an overridden
value is checked exactly like one written in the script."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Sequence
from typing import Any

from loosen.errors import BadInputError

__all__ = ["KEY_ALIASES", "apply_overrides", "parse_value"]

# what people call a value -> the key a step of that kind uses for it
KEY_ALIASES: dict[str, dict[str, str]] = {
    "hold": {"hold": "seconds", "time": "seconds", "duration": "seconds"},
    "pause": {"rest": "seconds", "pause": "seconds", "time": "seconds", "duration": "seconds"},
    "reps": {"reps": "count", "repetitions": "count"},
    "tense_release": {"hold": "tense", "tension": "tense"},
    "breathe": {"breaths": "cycles"},
}
_STEP_KEYS: dict[str, tuple[str, ...]] = {
    "say": ("text",),
    "pause": ("seconds",),
    "hold": ("text", "seconds", "release_text", "halfway", "countdown", "countdown_style"),
    "reps": ("text", "count", "cadence", "cue", "rep_text", "release_text"),
    "breathe": ("text", "cycles", "inhale", "hold", "exhale", "guide", "inhale_text",
                "hold_text", "exhale_text"),
    "tense_release": ("text", "release_text", "tense", "release"),
    "repeat": ("times",),
}  # fmt: skip
_TABLES = ("pacing", "mix")
_ASSIGNMENT = re.compile(r"^\s*(?P<target>.+?)\.(?P<key>[A-Za-z_]+)\s*=\s*(?P<value>.*)$")


def parse_value(text: str) -> object:
    """A command-line value as TOML would read it: a whole number, a number, true/false, text."""
    stripped = text.strip()
    for convert in (int, float):
        try:
            return convert(stripped)
        except ValueError:
            pass
    if stripped in ("true", "false"):
        return stripped == "true"
    return stripped.strip("\"'")


def apply_overrides(document: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Return a copy of the script ``document`` with each ``STEP.KEY=VALUE`` or
    ``pacing.KEY=VALUE`` assignment applied; `BadInputError` names an unknown step or key."""
    result = copy.deepcopy(document)
    for assignment in overrides:
        match = _ASSIGNMENT.fullmatch(assignment)
        if match is None:
            raise BadInputError(
                f'--set {assignment!r}: write STEP.KEY=VALUE, such as "dead bug.count=20" or '
                "pacing.release=35s"
            )
        target, key, value = match["target"].strip(), match["key"], parse_value(match["value"])
        if target in _TABLES:
            table = result.setdefault(target, {})
            if not isinstance(table, dict):
                raise BadInputError(f"--set {assignment!r}: the script's [{target}] is not a table")
            table[key] = value  # validated with the rest of the script
            continue
        steps = _matching_steps(result.get("steps"), target, assignment)
        for step in steps:
            kind = str(step.get("kind"))
            real_key = KEY_ALIASES.get(kind, {}).get(key, key)
            allowed = _STEP_KEYS.get(kind, ())
            if real_key not in allowed:
                shown = ", ".join(sorted(set(allowed) | set(KEY_ALIASES.get(kind, {}))))
                raise BadInputError(
                    f"--set {assignment!r}: a {kind} step has no {key!r}; keys: {shown}"
                )
            step[real_key] = value
    return result


def _walk(steps: object) -> Iterator[dict[str, Any]]:
    if isinstance(steps, list):
        for step in steps:
            if isinstance(step, dict):
                yield step
                yield from _walk(step.get("steps"))


def _matching_steps(steps: object, target: str, assignment: str) -> list[dict[str, Any]]:
    """Steps named ``target`` exactly (case-insensitive), else those it uniquely begins."""
    named = [s for s in _walk(steps) if isinstance(s.get("name"), str)]
    wanted = target.lower()
    exact = [s for s in named if s["name"].lower() == wanted]
    if exact:
        return exact
    names = {s["name"] for s in named if s["name"].lower().startswith(wanted)}
    if len(names) == 1:
        return [s for s in named if s["name"] in names]
    known = ", ".join(dict.fromkeys(s["name"] for s in named)) or "none"
    if names:
        raise BadInputError(
            f"--set {assignment!r}: {target!r} could mean {', '.join(sorted(names))}"
        )
    raise BadInputError(f"--set {assignment!r}: no step named {target!r}; steps: {known}")
