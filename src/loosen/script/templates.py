"""Spoken-text templates: only whitelisted ``{names}``, no attribute or index access, no eval."""

from __future__ import annotations

import string
from collections.abc import Mapping

__all__ = ["VARIABLES", "check_template", "fill_template", "template_variables"]

VARIABLES = frozenset({"side", "other_side", "count", "seconds", "name", "rep"})

_FORMATTER = string.Formatter()


def template_variables(text: str) -> list[str]:
    """Return the variables ``text`` uses, in order; raise ``ValueError`` on anything else.

    ``{{`` and ``}}`` are literal braces. Attribute access (``{side.x}``), indexing
    (``{side[0]}``), conversions (``{side!r}``) and format specs (``{side:>9}``) are refused, so
    a script can never reach into Python objects.
    """
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as error:
        raise ValueError(
            f"unbalanced braces in text ({error}); write {{{{ or }}}} for a brace"
        ) from None
    names: list[str] = []
    for _literal, field, spec, conversion in parsed:  # Formatter.parse puts the spec first
        if field is None:
            continue
        shown = (
            "{" + field + ("!" + conversion if conversion else "") + (":" + spec if spec else "")
        )
        shown += "}"
        if field not in VARIABLES or conversion or spec:
            known = ", ".join("{" + v + "}" for v in sorted(VARIABLES))
            raise ValueError(f"unknown variable {shown} in text; known: {known}")
        names.append(field)
    return names


def check_template(text: str) -> None:
    """Raise ``ValueError`` if ``text`` is not a valid template (see `template_variables`)."""
    template_variables(text)


def fill_template(text: str, values: Mapping[str, object]) -> str:
    """Substitute ``values`` into ``text``; a variable without a value raises ``ValueError``,
    and so does a text that is not a valid template (see `template_variables`), even one that
    did not come through the loader."""
    template_variables(text)
    out: list[str] = []
    for literal, field, _spec, _conversion in _FORMATTER.parse(text):
        out.append(literal)
        if field is None:
            continue
        if field not in values or values[field] is None:
            raise ValueError(f"{{{field}}} has no value here ({_why_missing(field)})")
        out.append(str(values[field]))
    return "".join(out)


def _why_missing(field: str) -> str:
    return {
        "side": "only steps with `sides` have a side",
        "other_side": "only steps with `sides` have a side",
        "count": "only reps steps have a count",
        "seconds": "only pause, hold and tense_release steps have seconds",
        "name": "the step has no `name`",
        "rep": "only a reps step's rep_text has a rep number",
    }[field]
