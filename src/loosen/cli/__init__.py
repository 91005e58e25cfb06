"""The `loosen` command: parses options, calls the library, turns its errors into one-line messages.

Exit codes: 0 ok, 1 runtime failure, 2 bad input, 130 interrupted.
"""

from __future__ import annotations

from loosen.cli import (  # noqa: F401  (they register commands)
    export_cmds,
    info_cmds,
    play_cmds,
    render_cmds,
    serve_cmds,
)
from loosen.cli.common import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the `loosen` console script (and of ``python -m loosen``: the same name,
    so that its usage lines and shell completion say `loosen`).

    SIGTERM and SIGHUP (the terminal closed) stop a command the way Ctrl+C does: what it was
    doing is undone or kept as it should be, and it says so in one line (exit 143, 129).
    """
    import signal

    from loosen.errors import Terminated

    def stop(signum: int, frame: object) -> None:
        raise Terminated(signum)

    for name in ("SIGTERM", "SIGHUP"):  # (Windows has no SIGHUP)
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, stop)
    app(prog_name="loosen")
