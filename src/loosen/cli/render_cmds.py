"""Commands that render or inspect a session: show, check, list, new."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

import typer

from loosen.cli.common import (
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
    rendered,
    reported,
)


@app.command()
def show(
    script: ScriptArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print the timeline as JSON.")] = False,
    engine: EngineOpt = "pyttsx3",
    voice: VoiceOpt = None,
    voice_model: VoiceModelOpt = None,
    rate: RateOpt = None,
    no_cache: NoCacheOpt = False,
    pace: PaceOpt = None,
    fit: FitOpt = None,
    overrides: SetOpt = None,
    sample_rate: RateHzOpt = 48_000,
) -> None:
    """Print the expanded timeline and the total length, without writing audio."""
    with (
        reported(),
        rendered(
            script,
            engine=engine,
            voice=voice,
            voice_model=voice_model,
            rate=rate,
            no_cache=no_cache,
            pace=pace,
            fit=fit,
            overrides=overrides,
            sample_rate=sample_rate,
        ) as rendering,
    ):
        timeline = rendering.timeline
        if as_json:
            typer.echo(json.dumps(timeline.to_json(rendering.session.title), indent=2))
            return
        typer.echo(f"{rendering.session.title}: {clock(timeline.duration_s)} total")
        for line in _timeline_lines(timeline):
            typer.echo(line)


def _timeline_lines(timeline: Any) -> Iterator[str]:
    from loosen.durations import format_clock

    for event in timeline.events:
        if event.kind in ("pause", "rep", "breath"):
            continue  # their sound is the speech and chimes listed with them
        what = event.text if event.kind == "speech" else (event.cue or event.text or "")
        if event.kind == "hold":
            what = f"hold {timeline.seconds(event.frames):g} s"
        step = f"{event.step:>3} {event.step_name or ''}"
        if event.side:
            step += f" ({event.side})"
        start = format_clock(timeline.seconds(event.start))
        length_s = timeline.seconds(event.frames)
        yield f"{start:>10}  {length_s:6.2f}s  {step[:32]:<32}  {event.kind:<6}  {what}"
    yield f"{format_clock(timeline.duration_s):>10}  end"


@app.command()
def check(
    scripts: Annotated[list[str], typer.Argument(help="Script files or bundled session names.")],
    engine: EngineOpt = "pyttsx3",
) -> None:
    """Validate scripts: format, variables, and that every cue fits its slot."""
    with reported():
        for script in scripts:
            with rendered(
                script, engine=engine, voice=None, rate=None, no_cache=False
            ) as rendering:
                name = rendering.session.path or script
                length = clock(rendering.timeline.duration_s)
                typer.echo(f"{name}: ok, {len(rendering.steps)} steps, {length}")


@app.command("list")
def list_sessions(engine: EngineOpt = "pyttsx3") -> None:
    """List the sessions, bundled and your own, with their title and length."""
    with reported():
        from loosen.library import find_scripts, user_scripts_dir

        for entry in find_scripts().values():
            with rendered(
                str(entry.path), engine=engine, voice=None, rate=None, no_cache=False
            ) as rendering:
                length = clock(rendering.timeline.duration_s)
                typer.echo(
                    f"{entry.name:<18} {length:>6}  {entry.origin:<7}  {rendering.session.title}"
                )
        typer.echo(f"# your own scripts live in {user_scripts_dir()} (see `loosen new`)")


@app.command()
def new(
    name: Annotated[str, typer.Argument(help="Name of your new session (no .toml).")],
    source: Annotated[
        str, typer.Option("--from", help="The session to copy: a name or a script file.")
    ] = "stretch-quick",
) -> None:
    """Copy a session into your own scripts folder to edit; it is then found by NAME."""
    with reported():
        from loosen.library import new_script

        path = new_script(name, source)
        typer.echo(f"Wrote {path}; edit it, then: loosen play {name}")
