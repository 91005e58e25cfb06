"""What `loosen serve` offers and accepts, without a server: the sessions it was given, the
choices a page may ask for, and the host names a local server answers to."""

from pathlib import Path

import pytest
from tests.serve.serving import DATA
from tests.tools import require_module

require_module("starlette")

from loosen.errors import BadInputError  # noqa: E402
from loosen.serve.access import LOCAL_NAMES, new_token  # noqa: E402
from loosen.serve.library import Library, UnknownChoiceError  # noqa: E402
from loosen.serve.renders import Renders, Variant  # noqa: E402


@pytest.fixture
def library(tmp_path: Path) -> Library:
    return Library([str(DATA / "tiny.toml")], Renders(tmp_path), engine="espeak")


def test_it_serves_only_the_sessions_it_was_given(library: Library) -> None:
    assert [item.entry.name for item in library.check()] == ["tiny"]
    assert library.entry("tiny") is not None
    assert library.entry("back-loosening") is None  # bundled, but not given
    assert library.entry("../tiny") is None


def test_a_page_may_ask_for_a_preset_a_factor_or_a_voice_offered(library: Library) -> None:
    assert library.variant(None, None) == Variant()
    assert library.variant("standard", "") == Variant()  # the script as written: one rendering
    assert library.variant("Gentle", None) == Variant("gentle")
    assert library.variant("1.50", None) == Variant("1.5")
    voice = library.voices()[0][0]
    assert library.variant(None, voice) == Variant(None, voice)


@pytest.mark.parametrize(
    ("pace", "voice", "message"),
    [("sprint", None, "no pace called 'sprint'"), ("9", None, "pace 9: from 0.25 to 4.0"),
     ("nan", None, "pace nan: from 0.25 to 4.0"), (None, "klingon", "no voice called 'klingon'")],
)  # fmt: skip
def test_anything_else_is_refused_by_name(
    library: Library, pace: str | None, voice: str | None, message: str
) -> None:
    with pytest.raises(UnknownChoiceError, match=message) as refused:
        library.variant(pace, voice)
    assert isinstance(refused.value, BadInputError)


def test_a_script_that_cannot_be_served_is_said_once_and_the_others_go_on(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("title = 3\n")
    heard: list[str] = []
    library = Library(
        [str(DATA / "tiny.toml"), str(bad)], Renders(tmp_path), engine="espeak", warn=heard.append
    )
    assert [item.entry.name for item in library.check()] == ["tiny"]
    library.items()
    assert len(heard) == 1 and heard[0].startswith("left out 'bad': ")
    assert heard[0].count(str(bad)) == 1


def test_a_rendering_key_changes_with_the_script_and_the_choices(
    library: Library, tmp_path: Path
) -> None:
    renders = Renders(tmp_path)
    (entry,) = [item.entry for item in library.items()]
    keys = {renders.key(entry, v) for v in (Variant(), Variant("gentle"), Variant(None, "en-gb"))}
    assert len(keys) == 3
    edited = type(entry)(entry.name, entry.path, entry.origin, "0" * 64)
    assert renders.key(edited, Variant()) not in keys


def test_tokens_are_random_and_long_enough() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(token) >= 22 and "/" not in token for token in tokens)
    assert "localhost" in LOCAL_NAMES and "127.0.0.1" in LOCAL_NAMES
