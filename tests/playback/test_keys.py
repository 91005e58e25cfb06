import pytest

from loosen.playback.keys import decode_keys


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
