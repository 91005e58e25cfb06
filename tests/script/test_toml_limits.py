"""TOML that costs Python's parser minutes or gigabytes (a dotted key of thousands of parts,
brackets nested thousands deep) is refused by a scan of the text before it is parsed, in one
line naming the place; dots and brackets inside strings and comments mean nothing to it. The
cases run in a child process held to a memory and processor-time limit."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loosen.errors import ScriptError
from loosen.script.limits import MAX_SCRIPT_BYTES, MAX_TOML_DEPTH
from loosen.script.loading import parse_session
from loosen.script.toml_input import scan_toml
from tests.bounded import run_bounded

HEADER = 'title = "T"\n'
SAY = '[[steps]]\nkind = "say"\ntext = "Hello."\n'


def refusal(text: str) -> str:
    with pytest.raises(ScriptError) as caught:
        parse_session((HEADER + text).encode(), path=Path("s.toml"))
    return str(caught.value)


def dotted(parts: int, part: str = "a") -> str:
    return ".".join([part] * parts)


# ---------------------------------------------------------------- dotted keys
def test_a_dotted_key_of_thirty_thousand_parts_is_refused_at_once_naming_its_line(
    tmp_path: Path,
) -> None:
    script = tmp_path / "dotted.toml"
    script.write_text(HEADER + dotted(30_000) + " = 1\n" + SAY)
    assert 55_000 < script.stat().st_size < 65_000  # the size the parser took a minute over
    done = run_bounded(["check", str(script)], memory_mb=250, cpu_s=5)
    assert done.returncode == 2, done.explained()
    assert done.stderr == (
        f"Error: {script}: line 2, column 1: a dotted key has more than 24 parts; tables nest "
        "at most 24 deep\n"
    )


def test_the_config_file_is_read_with_the_same_protections(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(dotted(30_000) + " = 1\n")
    done = run_bounded(["config"], memory_mb=250, cpu_s=5, env={"LOOSEN_CONFIG_DIR": str(tmp_path)})
    assert done.returncode == 2, done.explained()
    assert done.stderr == (
        f"Error: {config}: line 1, column 1: a dotted key has more than 24 parts; tables nest "
        "at most 24 deep\n"
    )


def test_a_dotted_key_of_the_limits_parts_gets_past_the_scan_and_one_more_does_not() -> None:
    assert MAX_TOML_DEPTH == 24
    # 24 parts: parsed, then refused by the script's own check of its keys
    assert "key 'a': unknown key 'a'" in refusal(dotted(24) + " = 1\n" + SAY)
    assert refusal(dotted(25) + " = 1\n" + SAY) == (
        "s.toml: line 2, column 1: a dotted key has more than 24 parts; tables nest at most 24 deep"
    )


@pytest.mark.parametrize(
    ("line", "column"),
    [
        ("[" + dotted(25) + "]", 2),  # a table's header
        ("[[" + dotted(25) + "]]", 3),  # an array of tables
        ("x = {" + dotted(25) + " = 1}", 6),  # an inline table
        ('"a" . ' + " . ".join(['"b.c"'] * 24) + " = 1", 4),  # quoted parts, spaces, dots in them
        ("steps" + ".a" * 24 + " = 1", 1),
    ],
)
def test_every_way_of_writing_a_long_dotted_key_is_refused_where_it_starts(
    line: str, column: int
) -> None:
    assert f"line 2, column {column}: a dotted key has more than 24 parts" in refusal(line + "\n")


@pytest.mark.parametrize("line", ["a.b. = 1", "a.b..c = 1", "x = 1.5.2", "x = a..b"])
def test_a_stray_dot_is_the_parsers_to_refuse(line: str) -> None:
    assert "TOML syntax: " in refusal(line + "\n")


def test_dots_and_brackets_in_strings_and_comments_mean_nothing() -> None:
    chain = dotted(40)
    brackets = "[" * 40 + "{{" * 40  # {{ is a brace in a text
    script = (
        f"{HEADER}description = '{chain} {'[' * 40}'  # {chain} {brackets}\n"
        f'# {chain} = 1\n[[steps]]\nkind = "say"\n'
        f'text = """{chain}\n{brackets} "" \\""" """\n'
        f"[[steps]]\nkind = 'say'\ntext = '''{chain} '' {brackets}'''\n"
        f'[[steps]]\nkind = "say"\ntext = "{chain} \\" {brackets}"\n'
    )
    session = parse_session(script.encode())
    assert session.description.startswith(chain)
    assert len(session.steps) == 3


# ---------------------------------------------------------------- nesting
def test_arrays_nested_past_the_limit_are_refused_by_the_scan_naming_the_first_one_too_deep() -> (
    None
):
    at_limit = "[" * MAX_TOML_DEPTH + "]" * MAX_TOML_DEPTH
    # as deep as the scan allows: parsed, then refused by the document's depth check
    assert refusal(f"x = {at_limit}\n") == (
        "s.toml: key 'x': arrays and tables nest more than 24 deep"
    )
    past = "[" * 25 + "]" * 25
    assert refusal(f"x = {past}\n") == (
        "s.toml: line 2, column 29: TOML syntax: arrays or tables nest more than 24 deep"
    )


@pytest.mark.parametrize(
    "deep",
    [
        "x = " + "[" * 100_000 + "]" * 100_000,
        "x = " + "{a = " * 100_000 + "1" + "}" * 100_000,
        "x = [" + "{a = [" * 50_000,  # never closed
    ],
    ids=["arrays", "inline tables", "unclosed"],
)
def test_nesting_a_hundred_thousand_deep_is_refused_at_once(tmp_path: Path, deep: str) -> None:
    script = tmp_path / "deep.toml"
    script.write_text(HEADER + deep + "\n" + SAY)
    done = run_bounded(["check", str(script)], memory_mb=250, cpu_s=5)
    assert done.returncode == 2, done.explained()
    assert "TOML syntax: arrays or tables nest more than 24 deep" in done.stderr
    assert done.stderr.count("\n") == 1


# ---------------------------------------------------------------- the size limit's edge
@pytest.mark.parametrize(
    "shape",
    [
        "k{i}" + ".a" * 23 + " = 1\n",  # the most work per byte the parser accepts
        '[[steps]]\nkind = "say"\ntext = "Hello {i}."\n',  # checked, then too many steps
    ],
    ids=["24-part keys", "arrays of tables"],
)
def test_a_script_of_the_size_limit_in_the_costliest_shapes_is_read_in_bounded_time(
    tmp_path: Path, shape: str
) -> None:
    lines, size, i = [HEADER], len(HEADER), 0
    while size + len(shape.format(i=i)) + 2 <= MAX_SCRIPT_BYTES:
        lines.append(shape.format(i=i))
        size += len(lines[-1])
        i += 1
    script = tmp_path / "big.toml"
    script.write_text("".join(lines))
    assert MAX_SCRIPT_BYTES - 100 < script.stat().st_size <= MAX_SCRIPT_BYTES
    # about 2.5 s and 190 MB for the 24-part keys: tomllib builds a table per part
    code = f"from loosen.script.loading import load_session\nload_session({str(script)!r})"
    done = run_bounded([code], memory_mb=500, cpu_s=20, module="")
    assert "ScriptError" in done.stderr, done.explained()  # every one is refused, in one line


def test_the_scan_stays_linear_on_text_made_to_trip_it() -> None:
    # a megabyte each of what makes a scanner backtrack or loop: runs of dots and quotes, keys
    # one part short of the limit, unclosed strings, brackets that open and close
    shapes = [
        "'.' * 1_000_000",
        "'. ' * 500_000",
        "'\"\\n' * 500_000",
        "'\"\"' * 500_000",
        "('a' + '.a' * 22 + '..') * 20_000",
        "('\"a\".' * 22 + '\"a\" = ') * 6_000",
        '\'"""\\\\\' * 250_000',
        "'[[[[[[[[[[]]]]]]]]]]' * 50_000",
        "'[' + '[1],' * 250_000",
    ]
    code = "from loosen.script.toml_input import scan_toml\n" + "".join(
        f"scan_toml({shape}, 'x.toml')\n" for shape in shapes
    )
    done = run_bounded([code], memory_mb=300, cpu_s=10, module="")
    assert done.returncode == 0, done.explained()


# ---------------------------------------------------------------- any valid document
_TEXT = st.text(alphabet=st.sampled_from("ab .[]{}#\"'\\=,\n\t"), max_size=30)
_BARE = st.text(alphabet=st.sampled_from("ab-_1"), min_size=1, max_size=4)


def _string(text: str, style: int) -> str:
    """``text`` as a TOML string of one of four styles, where that style can hold it."""
    if style == 1 and "'" not in text and "\n" not in text:
        return f"'{text}'"
    if style == 2 and "'''" not in text and not text.endswith("'"):
        return f"'''{text}'''"
    if style == 3:
        escaped = json.dumps(text)[1:-1].replace("\\n", "\n")
        return f'"""{escaped}"""' if not escaped.endswith('"') else json.dumps(text)
    return json.dumps(text)


_STRING = st.builds(_string, _TEXT, st.integers(0, 3))
_LITERAL = _TEXT.filter(lambda t: "'" not in t and "\n" not in t).map(lambda t: f"'{t}'")
_KEY_PART = st.one_of(_BARE, _TEXT.map(json.dumps), _LITERAL)
_COMMENT = st.text(alphabet=st.sampled_from("ab .[]{}#\"'\\=,\t"), max_size=30)


def _value(depth: int) -> st.SearchStrategy[str]:
    leaf = st.one_of(_STRING, st.sampled_from(["1", "1.5", "true", "1979-05-27T07:32:00.5Z"]))
    if depth >= MAX_TOML_DEPTH:
        return leaf
    inner = st.deferred(lambda: _value(depth + 1))
    array = st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]")
    table = st.lists(inner, max_size=3).map(
        lambda items: "{" + ", ".join(f"k{n} = {item}" for n, item in enumerate(items)) + "}"
    )
    return st.one_of(leaf, array, table)


@settings(max_examples=300, deadline=None)
@given(
    entries=st.lists(
        st.tuples(
            st.lists(_KEY_PART, min_size=0, max_size=MAX_TOML_DEPTH - 1), _value(0), _COMMENT
        ),
        max_size=6,
    ),
    nested=st.integers(0, MAX_TOML_DEPTH),
)
def test_the_scan_lets_every_document_within_the_limits_through(
    entries: list[tuple[list[str], str, str]], nested: int
) -> None:
    # keys of at most 24 parts (the first numbered, so that no two clash), brackets at most
    # 24 deep, strings and comments holding anything
    lines = [
        f"k{n}{''.join('.' + part for part in key)} = {value}  # {comment}"
        for n, (key, value, comment) in enumerate(entries)
    ]
    lines.append("deep = " + "[" * nested + "1" + "]" * nested)
    text = "\n".join(lines)
    tomllib.loads(text)  # valid TOML
    scan_toml(text, "any.toml")
