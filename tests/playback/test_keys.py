import io

import pytest

from loosen.playback.keys import decode_keys, decode_windows_keys


@pytest.mark.parametrize(
    ("typed", "keys"),
    [
        (" ", ["space"]),
        ("\x1b[C\x1b[D", ["right", "left"]),
        ("\x1bOC", ["right"]),
        ("nNpP", ["n", "n", "p", "p"]),
        ("+=-_", ["+", "+", "-", "-"]),
        ("q", ["q"]),
        ("\x1b[15~t", ["t"]),  # an unknown function key is skipped
    ],
)
def test_terminal_input_becomes_key_names(typed: str, keys: list[str]) -> None:
    assert decode_keys(typed) == keys


@pytest.mark.parametrize(
    ("typed", "keys"),
    [
        (" ", ["space"]),
        ("\xe0M\xe0K", ["right", "left"]),  # the arrow block
        ("\x00H\x00P", ["up", "down"]),  # the arrows of the number pad
        ("\xe0H\x00M", ["up", "right"]),
        ("nNpP", ["n", "n", "p", "p"]),
        ("+=-_", ["+", "+", "-", "-"]),
        ("\r", ["enter"]),
        ("\x1b", ["escape"]),
        ("\x00;t", ["t"]),  # F1 is skipped
        ("\xe0Gq", ["q"]),  # so is Home
        ("q\xe0", ["q"]),  # a prefix cut off from its scan code
    ],
)
def test_windows_console_input_becomes_the_same_key_names(typed: str, keys: list[str]) -> None:
    assert decode_windows_keys(typed) == keys


def test_the_platform_module_imports_and_a_non_terminal_gives_no_keys() -> None:
    from loosen.playback.terminal_keys import single_keys

    with single_keys(io.StringIO()) as reader:
        assert reader is None
