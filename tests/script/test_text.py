import pytest

from loosen.script.templates import fill_template, template_variables


def test_known_variables_are_filled_in() -> None:
    text = "Reach toward your {side} foot, then the {other_side}; hold {seconds} s."
    values = {"side": "right", "other_side": "left", "seconds": 30}
    assert fill_template(text, values) == "Reach toward your right foot, then the left; hold 30 s."


def test_double_braces_are_literal_braces() -> None:
    assert fill_template("{{calm}}", {}) == "{calm}"


@pytest.mark.parametrize(
    "text",
    [
        "{colour}",
        "{side.__class__}",
        "{side[0]}",
        "{side!r}",
        "{side:>20}",
        "{}",
        "{0}",
        "{__import__}",
    ],
)
def test_anything_but_a_plain_known_variable_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="unknown variable"):
        template_variables(text)


def test_unbalanced_braces_are_refused() -> None:
    with pytest.raises(ValueError, match="unbalanced"):
        template_variables("hold {side")


def test_a_variable_without_a_value_says_why() -> None:
    with pytest.raises(ValueError, match="only steps with `sides` have a side"):
        fill_template("the {side} leg", {"side": None})
