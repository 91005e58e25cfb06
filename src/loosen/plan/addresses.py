"""Step addresses: how a user names a step, one grammar for every place that takes one (where
playback starts, which step a setting changes) and for how messages name steps.

An address is one of
- a number: the step's number as `loosen show` and `loosen play` count the expanded session
  (sides copied, repeats unrolled), from 1;
- a name, written in full or as a unique start (case and spacing do not matter): a step's
  ``name`` or a repeat block's;
- a name and a side, written as they are shown on screen and in chapters,
  ``hamstring stretch (left)``, or as ``hamstring stretch:left``.

Names may hold colons or brackets of their own (``relaxation: hands``): a trailing ``(side)`` or
``:side`` counts as a side only when it is one of the session's sides.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from loosen.errors import BadValueError, shown

__all__ = ["Address", "Addressable", "find_step", "match_name", "parse_address", "step_label"]

_BRACKETED_SIDE = re.compile(r"^(?P<name>.*\S)\s*\(\s*(?P<side>[^()]*?)\s*\)$")


@dataclass(frozen=True)
class Address:
    """A parsed address: a number, or a name (as written) with perhaps a side."""

    text: str
    number: int | None = None
    name: str | None = None
    side: str | None = None


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def parse_address(
    text: str, names: Collection[str], sides: Collection[str], *, what: str = "step"
) -> Address:
    """Read ``text`` as an address of one of ``names`` (steps' and repeat blocks' names), with
    one of ``sides`` perhaps. Raises `BadValueError` (about ``what``) when no name or more
    than one matches, listing the names."""
    written = text.strip()
    if written.isdigit():
        return Address(text, number=int(written))
    normal_sides = {_normal(side): side for side in sides}
    forms: list[tuple[str, str | None]] = [(written, None)]
    bracketed = _BRACKETED_SIDE.fullmatch(written)
    if bracketed and _normal(bracketed["side"]) in normal_sides:
        forms.append((bracketed["name"], normal_sides[_normal(bracketed["side"])]))
    before, colon, after = written.rpartition(":")
    if colon and before.strip() and _normal(after) in normal_sides:
        forms.append((before, normal_sides[_normal(after)]))
    ambiguous: list[str] = []
    for name, side in forms:
        found = match_name(name, names)
        if len(found) == 1:
            return Address(text, name=found[0], side=side)
        if found and not ambiguous:
            ambiguous = found
    if ambiguous:
        raise BadValueError(what, text, f"could mean {', '.join(ambiguous)}")
    known = ", ".join(dict.fromkeys(names)) or "none has a name"
    raise BadValueError(what, text, f"no step of that name; steps: {known}")


def match_name(written: str, names: Collection[str]) -> list[str]:
    """The names ``written`` names: the one it equals (case and spacing aside), else every
    distinct name it begins."""
    wanted = _normal(written)
    if not wanted:
        return []
    exact = [name for name in dict.fromkeys(names) if _normal(name) == wanted]
    if exact:
        return exact[:1]
    return [name for name in dict.fromkeys(names) if _normal(name).startswith(wanted)]


def step_label(number: int, name: str | None, side: str | None, kind_title: str) -> str:
    """A step as a message names it, by the address a user would type: ``step 5 'hamstring
    stretch (left)'``, or ``step 7 (a pause)`` when it has no name."""
    if name is None:
        return f"step {number} ({kind_title}{f', {side} side' if side else ''})"
    return f"step {number} {shown(f'{name} ({side})' if side else name, 80)}"


class _Block(Protocol):
    @property
    def name(self) -> str: ...


class Addressable(Protocol):
    """What `find_step` needs of an expanded step (`loosen.plan.expand.Step`)."""

    @property
    def index(self) -> int: ...

    @property
    def name(self) -> str | None: ...

    @property
    def side(self) -> str | None: ...

    @property
    def blocks(self) -> Sequence[_Block]: ...


def find_step(steps: Sequence[Addressable], text: str, *, what: str = "step") -> int:
    """The number (1-based) of the first of ``steps`` (an expanded session) that ``text``
    addresses; a repeat block's name gives the block's first step. Raises `BadValueError`."""
    names = [s.name for s in steps if s.name] + [b.name for s in steps for b in s.blocks]
    sides = {s.side for s in steps if s.side}
    address = parse_address(text, names, sides, what=what)
    if address.number is not None:
        if 1 <= address.number <= len(steps):
            return address.number
        raise BadValueError(what, text, f"the session has steps 1 to {len(steps)}")
    for step in steps:
        named = step.name == address.name or any(b.name == address.name for b in step.blocks)
        if named and address.side in (None, step.side):
            return step.index
    raise BadValueError(what, text, f"{shown(address.name)} has no {address.side} side")
