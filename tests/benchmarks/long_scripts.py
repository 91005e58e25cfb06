"""Sessions of a chosen length for the memory figures: the bundled pmr-16 with its muscle groups
in a `repeat` step, so that a long session still has only pmr-16's few distinct lines.

pmr-16 opens and closes in about 2.5 minutes, and each muscle group takes about 50 s:
`write_script(path, groups=9, times=1)` lasts about 10 minutes, `groups=16, times=9` about two
hours. The scripts are written as TOML by the small writer below (the standard library reads TOML
but does not write it); it covers what session scripts use: strings, numbers, booleans, lists of
them, tables and arrays of tables.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PMR_16 = Path(__file__).resolve().parents[2] / "scripts" / "pmr-16.toml"


def write_script(path: Path, title: str, *, groups: int, times: int) -> Path:
    """Write pmr-16 with ``times`` passes over its first ``groups`` muscle groups to ``path``."""
    source = tomllib.loads(PMR_16.read_text(encoding="utf-8"))
    steps = source["steps"]
    group_at = [i for i, step in enumerate(steps) if step["kind"] == "tense_release"]
    first, last = group_at[0], group_at[-1]
    repeat = {"kind": "repeat", "times": times, "steps": steps[first : first + groups]}
    script = {**source, "title": title, "steps": [*steps[:first], repeat, *steps[last + 1 :]]}
    path.write_text(to_toml(script), encoding="utf-8")
    return path


def to_toml(document: Mapping[str, Any]) -> str:
    """``document`` as TOML text."""
    return "\n".join(_lines(document, prefix="")) + "\n"


def _lines(document: Mapping[str, Any], prefix: str) -> list[str]:
    """The plain values of ``document``, then its tables, then its arrays of tables."""
    lines = [f"{key} = {_value(v)}" for key, v in document.items() if not _is_table(v)]
    for key, value in document.items():
        if isinstance(value, Mapping):
            lines += ["", f"[{prefix}{key}]", *_lines(value, f"{prefix}{key}.")]
        elif _is_table(value):
            for table in value:
                lines += ["", f"[[{prefix}{key}]]", *_lines(table, f"{prefix}{key}.")]
    return lines


def _is_table(value: Any) -> bool:
    if isinstance(value, Mapping):
        return True
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _value(value: Any) -> str:
    """A plain value in TOML: JSON's strings (escapes included), numbers, booleans and arrays
    are TOML's too."""
    if not isinstance(value, str | int | float | bool | list):
        raise TypeError(f"no TOML for {value!r}")
    return json.dumps(value, ensure_ascii=False)
