"""The `loosen` command: parses options, calls the library, turns its errors into one-line messages.

Exit codes: 0 ok, 1 runtime failure, 2 bad input, 130 interrupted.
"""

from __future__ import annotations

from loosen.cli import (  # noqa: F401  (they register commands)
    export_cmds,
    info_cmds,
    play_cmds,
    render_cmds,
)
from loosen.cli.common import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the `loosen` console script (and of ``python -m loosen``: the same name,
    so that its usage lines and shell completion say `loosen`)."""
    app(prog_name="loosen")
