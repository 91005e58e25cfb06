"""Commands that render or inspect a session: show, check, list, new."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from loosen.cli.common import (
    Bars,
    EngineOpt,
    FitOpt,
    NoCacheOpt,
    PaceOpt,
    RateHzOpt,
    RateOpt,
    ScriptArg,
    SetOpt,
    VoiceModelOpt,
    VoiceOpt,
    app,
    clock,
    listener_for,
    report_error,
    reported,
    session_options,
    worst_exit_code,
)
from loosen.errors import BadInputError, LoosenError

if TYPE_CHECKING:
    from loosen.render.rendering import Rendering


@app.command()
def show(
    script: ScriptArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print the timeline as JSON.")] = False,
    engine: EngineOpt = None,
    voice: VoiceOpt = None,
    voice_model: VoiceModelOpt = None,
    rate: RateOpt = None,
    no_cache: NoCacheOpt = False,
    pace: PaceOpt = None,
    fit: FitOpt = None,
    overrides: SetOpt = None,
    sample_rate: RateHzOpt = None,
) -> None:
    """Print the expanded timeline and the total length, without writing audio."""
    from loosen.pipeline import open_rendering

    with reported(), Bars() as bars:
        options = session_options(
            engine=engine, voice=voice, voice_model=voice_model, rate=rate, no_cache=no_cache,
            pace=pace, fit=fit, overrides=overrides, sample_rate=sample_rate,
        )  # fmt: skip
        opened = open_rendering(script, options, listener=listener_for(bars, verbose=False))
        with opened as rendering:
            _show(rendering, as_json=as_json)


def _show(rendering: Rendering, *, as_json: bool) -> None:
    timeline = rendering.timeline
    title = f"{rendering.session.title}: {clock(timeline.duration_s)} total"
    if as_json:
        document = timeline.to_json(rendering.session.title)
        for entry, step in zip(document["steps"], rendering.steps, strict=True):
            entry["blocks"] = [
                {"name": b.name, "round": b.round, "rounds": b.rounds} for b in step.blocks
            ]
        typer.echo(json.dumps(document, indent=2))
        return
    from rich.console import Console

    from loosen.cli.show_table import timeline_rows, timeline_table

    console = Console(highlight=False)
    table = timeline_table(list(timeline_rows(timeline, rendering.steps)), console.width)
    with console.capture() as captured:
        console.print(table)
    typer.echo(title)
    for line in captured.get().splitlines():
        typer.echo(line.rstrip())


@app.command()
def check(
    scripts: Annotated[list[str], typer.Argument(help="Script files or bundled session names.")],
    engine: EngineOpt = None,
) -> None:
    """Validate scripts: format, variables, and that every cue fits its slot."""
    from loosen.pipeline import SessionOptions, open_rendering

    codes = []
    with reported():
        for script in scripts:
            try:
                with open_rendering(script, SessionOptions(engine=engine)) as rendering:
                    name = rendering.session.path or script
                    length = clock(rendering.timeline.duration_s)
                    typer.echo(f"{name}: ok, {len(rendering.steps)} steps, {length}")
                codes.append(0)
            except LoosenError as error:  # said, and on to the next script
                codes.append(report_error(error, script))
    if worst_exit_code(codes):
        raise typer.Exit(worst_exit_code(codes))


@app.command("list")
def list_sessions(engine: EngineOpt = None) -> None:
    """List the sessions, bundled and your own, with their title and length."""
    codes = []
    with reported():
        from loosen.script.library import find_scripts, user_scripts_dir
        from loosen.session.opening import length_without_speaking

        entries = list(find_scripts().values())
        width = max([len(entry.name) for entry in entries] + [16])
        estimated = False
        for entry in entries:
            try:
                title, length = length_without_speaking(str(entry.path), engine)
            except LoosenError as error:  # said, and on to the next session
                typer.echo(f"{entry.name:<{width}} {'?':>8}  {entry.origin:<7}  (cannot be read)")
                codes.append(report_error(error, str(entry.path)))
                continue
            shown = clock(length.seconds) if length.exact else f"~{clock(length.seconds)}"
            estimated = estimated or not length.exact
            typer.echo(f"{entry.name:<{width}} {shown:>8}  {entry.origin:<7}  {title}")
        if estimated:
            typer.echo("# ~: estimated from the text; exact once the session has been spoken")
        typer.echo(f"# your own scripts live in {user_scripts_dir()} (see `loosen new`)")
    if worst_exit_code(codes):
        raise typer.Exit(worst_exit_code(codes))


@app.command()
def new(
    name: Annotated[str, typer.Argument(help="Name of your new session (no .toml).")],
    source: Annotated[
        str, typer.Option("--from", help="The session to copy: a name or a script file.")
    ] = "stretch-quick",
    hide_bundled: Annotated[
        bool,
        typer.Option(
            "--hide-bundled",
            help="Allow NAME to be a bundled session's name: yours is then found instead.",
        ),
    ] = False,
) -> None:
    """Copy a session into your own scripts folder to edit; it is then found by NAME."""
    with reported():
        from shlex import quote

        from loosen.script.library import bundled_scripts
        from loosen.session.user_scripts import new_script

        if name in bundled_scripts() and not hide_bundled:  # said here: it names the option
            raise BadInputError(
                f"{name!r} is a bundled session, which a script of yours by that name would "
                "hide; choose another name, or pass --hide-bundled"
            )
        path = new_script(name, source, hide_bundled=hide_bundled)
        typer.echo(f"Wrote {quote(str(path))}; edit it, then: loosen play {quote(name)}")
