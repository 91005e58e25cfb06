"""TOML from a user (session scripts, sound recipes, the config file), read with the same
protections whatever the file: a size limit, a scan of the text before it is parsed, the
parser's own refusals turned into messages, and a depth check of what it parsed.

The scan exists because Python's TOML parser is quadratic in the parts of a dotted key: a
50 kB line ``a.a.a... = 1`` of 25,000 parts takes it about a minute and gigabytes of memory
(it builds a tuple of the key's parts one part at a time, and a table for every prefix).
Arrays and inline tables nested thousands deep make it recurse until Python gives up. One
linear pass over the text, with regular expressions doing the work, refuses both in a few
milliseconds and names the line: every ``.`` outside strings and comments that begins a chain
of more than `MAX_TOML_DEPTH` key parts, and brackets (``[`` and ``{``) open more than
`MAX_TOML_DEPTH` deep. Everything else in the parser is linear in the size of the text
(measured: many tables, long arrays, long keys and strings, many arrays of tables), which the
size limit bounds.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from loosen.errors import ScriptError, shown
from loosen.files import read_regular
from loosen.script.limits import MAX_TOML_DEPTH

__all__ = ["decoded_text", "parse_toml", "read_toml_file", "scan_toml"]

# One key part: a bare key, or a quoted one (basic or literal), which may hold dots.
_PART = r"""(?:[A-Za-z0-9_-]++|"(?:[^"\\\n]|\\.)*+"|'[^'\n]*+')"""
_STRINGS = (
    r'"""(?:[^"\\]++|\\[\s\S]|"(?!""))*+"{3,5}'  # multi-line basic: up to 2 quotes end it
    r"|'''(?:[^']++|'(?!''))*+'{3,5}"  # multi-line literal
    r'|(?!""")"(?:[^"\\\n]++|\\.)*+"'  # basic: three quotes always open a multi-line one
    r"|(?!''')'[^'\n]*+'"  # literal
)
_LINK = rf"\.[ \t]*+{_PART}[ \t]*+"  # a dot and the key part after it
# Everything that changes nothing, walked over by the regular expression rather than a Python
# loop (possessive, so it never backtracks): runs without brackets, quotes, comments or dots;
# whole strings and comments; a quote that opens no string (the parser refuses it); the dots
# of a key of at most MAX_TOML_DEPTH parts, taken whole (a float's dot, too), or a dot before
# no key part; an array or inline table with no brackets, strings or dots inside (``[1, 2]``).
_QUIET = (
    rf"(?:[^\"'#\[\]{{}}.]++|{_STRINGS}|\#[^\n]*+|(?!\"\"\"|\'\'\')[\"']"
    rf"|(?:{_LINK}){{1,{MAX_TOML_DEPTH - 1}}}+(?!{_LINK})|\.(?![ \t]*+{_PART})"
    rf"|[\[{{][^\[\]{{}}\"'#.]*+[\]}}])*+"
)
# What the scan acts on, after the quiet: brackets, the first dot of a key of more parts, a
# multi-line string that is never closed (the rest of the text is in it), another dot (of
# something that is not TOML: the parser says what), or the end.
_NEXT = re.compile(
    _QUIET
    + r"(?:(?P<open>[\[{]++)|(?P<close>[\]}]++)"
    + rf"|(?P<dotted>(?=(?:{_LINK}){{{MAX_TOML_DEPTH}}})\.)|(?P<dot>\.)"
    + r"|(?P<unclosed>\"\"\"|\'\'\')|\Z)"
)
_BARE_KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
_DIGITS = re.compile(rf"{_STRINGS}|\#[^\n]*+|(?P<digits>\d(?:_?\d){{4300,}})|[^\"'#\d]++|[\s\S]")


def scan_toml(text: str, where_file: Path | str) -> None:
    """Refuse ``text`` before it is parsed if it holds a dotted key of more than
    `MAX_TOML_DEPTH` parts, or arrays and inline tables open more than `MAX_TOML_DEPTH` deep,
    outside strings and comments; the `ScriptError` names the line and column.

    Linear in the length of ``text``. A document the scan lets through may still be invalid
    TOML: the parser says so then.
    """
    depth = 0
    for found in _NEXT.finditer(text):
        kind = found.lastgroup
        if kind == "open":
            depth += len(found["open"])
            if depth > MAX_TOML_DEPTH:
                # the first bracket past the limit
                at = found.end() - (depth - MAX_TOML_DEPTH)
                raise ScriptError(
                    f"TOML syntax: arrays or tables nest more than {MAX_TOML_DEPTH} deep",
                    path=where_file,
                    where=_place(text, at),
                )
        elif kind == "close":
            depth = max(0, depth - len(found["close"]))  # an extra one is the parser's to refuse
        elif kind == "dotted":
            raise ScriptError(
                f"a dotted key has more than {MAX_TOML_DEPTH} parts; tables nest at most "
                f"{MAX_TOML_DEPTH} deep",
                path=where_file,
                where=_place(text, _key_start(text, found.start("dotted"))),
            )
        elif kind == "unclosed":
            return  # the rest is inside a string that never ends: the parser stops there
        elif kind == "dot":
            continue
        elif kind is None:
            return  # the end of the text


def _key_start(text: str, dot: int) -> int:
    """Where the key whose first dot is at index ``dot`` of ``text`` starts (its first part is
    a bare one; a quoted one starts at the dot's left)."""
    line_start = text.rfind("\n", 0, dot) + 1
    before = text[line_start:dot].rstrip(" \t")
    return line_start + len(before.rstrip(_BARE_KEY_CHARS))


def _place(text: str, at: int) -> str:
    """``"line L, column C"`` of the character at index ``at`` of ``text`` (both from 1)."""
    line_start = text.rfind("\n", 0, at) + 1
    return f"line {text.count(chr(10), 0, at) + 1}, column {at - line_start + 1}"


def decoded_text(data: bytes, where_file: Path | str) -> str:
    """The text of a TOML file's bytes, which must be UTF-8; a byte-order mark is dropped."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ScriptError(
            "the file is UTF-16 text; save it as UTF-8", path=where_file, where="line 1"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ScriptError(
            f"not UTF-8 text (byte {error.start}); save the file as UTF-8",
            path=where_file,
            where=f"line {line}",
        ) from None
    return text.removeprefix("\ufeff")  # a BOM from a Windows editor is harmless


def parse_toml(text: str, where_file: Path | str) -> dict[str, Any]:
    """The TOML document in ``text``, scanned first (`scan_toml`) and checked after for
    arrays and tables nested deeper than `MAX_TOML_DEPTH`, before anything walks it
    recursively. A syntax error names its line and column."""
    text = text.removeprefix("\ufeff")
    scan_toml(text, where_file)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        match = re.search(r"\(at line (\d+), column (\d+)\)", message)
        where = f"line {match[1]}, column {match[2]}" if match else None
        if match is None and "(at end of document)" in message:
            match = re.search(r"\(at end of document\)", message)
            where = f"line {text.count(chr(10)) + 1}, end of file"
        reason = message[: match.start()].strip() if match else message
        raise ScriptError(f"TOML syntax: {reason}", path=where_file, where=where) from None
    except ValueError:
        # tomllib lets Python's own refusal through: an integer of more than 4300 digits
        raise ScriptError(
            "TOML syntax: a number has too many digits",
            path=where_file,
            where=_long_number_place(text),
        ) from None
    except RecursionError:  # the scan refuses what would get here; a last line of defence
        raise ScriptError(
            f"TOML syntax: arrays or tables nest more than {MAX_TOML_DEPTH} deep",
            path=where_file,
        ) from None
    _check_depth(document, where_file)
    return document


def read_toml_file(path: Path, max_bytes: int, what: str) -> dict[str, Any]:
    """The TOML document in the regular file ``path`` of at most ``max_bytes`` bytes (``what``
    names the kind of file in a message), read and parsed as `parse_toml` says.

    Raises
    ------
    ScriptError
        Naming ``path`` (and the place in it).
    """
    return parse_toml(decoded_text(read_regular(path, max_bytes, what), path), path)


def _long_number_place(text: str) -> str | None:
    """Where the first number of more than 4300 digits outside strings and comments is."""
    for found in _DIGITS.finditer(text):
        if found.lastgroup == "digits":
            return _place(text, found.start())
    return None


def _check_depth(document: dict[str, Any], where_file: Path | str) -> None:
    """Refuse arrays and tables nested deeper than `MAX_TOML_DEPTH` (the document is 1)."""
    pending: list[tuple[object, int, str]] = [(value, 2, key) for key, value in document.items()]
    while pending:
        value, depth, top_key = pending.pop()
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_TOML_DEPTH:
            raise ScriptError(
                f"arrays and tables nest more than {MAX_TOML_DEPTH} deep",
                path=where_file,
                where=f"key {shown(top_key)}",
            )
        children = value.values() if isinstance(value, dict) else value
        pending.extend((child, depth + 1, top_key) for child in children)
