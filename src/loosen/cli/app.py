"""The `loosen` app: its commands in the order they are used, `--version`, shell completion,
and usage errors (an unknown option, a missing argument, a bad number) in one line, exit 2,
like every other error.

Help is click's plain text, not typer's rich panels: importing typer's rich help formatter
(rich's markdown, traceback and pretty-printing modules) took about 80 ms, most of
`loosen --help`'s time (0.19 s against 0.08 s without it, issue 18)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer import _click as click  # typer's own click, whose usage errors these are
from typer.core import TyperGroup

from loosen.errors import EXIT_BAD_INPUT, EXIT_RUNTIME

__all__ = ["COMMAND_ORDER", "app", "usage_message"]

#: the order of `loosen --help`: what a listener runs first, then looking, then the catalogue
COMMAND_ORDER = (
    "play", "export", "serve", "show", "check", "list", "new", "voices", "sounds", "devices",
    "config",
)  # fmt: skip


class _Commands(TyperGroup):
    """`loosen`'s commands: listed in `COMMAND_ORDER`, and a usage error (an unknown option, a
    missing argument, a bad number) said in one line like every other error."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: (n not in COMMAND_ORDER, _place(n), names.index(n)))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands, each with its help's first sentence whole (click cuts it to fit one
        line, ending in "..."), wrapped to the terminal."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=_WHOLE_SENTENCE)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.NoArgsIsHelpError:
            sys.exit(EXIT_BAD_INPUT)  # the help is shown already
        except click.exceptions.UsageError as error:
            typer.echo(f"Error: {usage_message(error)}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except click.exceptions.ClickException as error:
            typer.echo(f"Error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except typer.Abort:
            typer.echo("Aborted.", err=True)
            sys.exit(EXIT_RUNTIME)
        sys.exit(code if isinstance(code, int) else 0)


_WHOLE_SENTENCE = 10_000  # characters: no first sentence is cut


def _place(name: str) -> int:
    return COMMAND_ORDER.index(name) if name in COMMAND_ORDER else 0


def usage_message(error: click.exceptions.UsageError) -> str:
    """A usage error in one line: ``no such option: --colour; see `loosen export --help```."""
    message = " ".join(error.format_message().split()).rstrip(".")
    message = message[:1].lower() + message[1:]
    if error.ctx is not None:
        message += f"; see `{error.ctx.command_path} --help`"
    return message


app = typer.Typer(
    name="loosen",
    help="Guided audio for progressive muscle relaxation and stretch routines.",
    cls=_Commands,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: see the module's docstring
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        import loosen

        typer.echo(f"loosen {loosen.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Say the version and exit."
        ),
    ] = False,
) -> None:
    """Guided audio for progressive muscle relaxation and stretch routines."""
    from loosen.notices import listen

    listen(_say_note)


def _say_note(message: str) -> None:
    import contextlib

    with contextlib.suppress(OSError):  # the terminal may be gone
        typer.echo(f"Note: {message}", err=True)
