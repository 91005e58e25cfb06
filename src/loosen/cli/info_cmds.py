"""What is available and set: voices, sounds, and the user's defaults."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from loosen.cli.common import EngineOpt, app, report_error, reported, worst_exit_code
from loosen.errors import BadInputError, LoosenError

if TYPE_CHECKING:
    from loosen.config import Defaults


@app.command()
def voices(
    engine: EngineOpt = None,
    language: Annotated[
        str | None, typer.Option("--language", help="Only voices for this language prefix.")
    ] = None,
) -> None:
    """List the voices of a speech engine."""
    with reported():
        from loosen.config import load_defaults
        from loosen.session.choices import DEFAULT_ENGINE
        from loosen.tts import open_engine

        with open_engine(engine or load_defaults().engine or DEFAULT_ENGINE) as speech_engine:
            typer.echo(f"# {speech_engine.describe()}")
            for info in speech_engine.voices():
                languages = ",".join(info.languages)
                if language and not any(lang.startswith(language) for lang in info.languages):
                    continue
                typer.echo(f"{info.id:<24} {info.name:<28} {languages}")


@app.command()
def sounds(
    play: Annotated[
        str | None,
        typer.Option(
            "--play",
            metavar="NAME",
            help="Play a sound: a cue kind (hold_end), a recipe (bowl-low) or an ambience.",
        ),
    ] = None,
    export: Annotated[
        str | None,
        typer.Option("--export", metavar="NAME", help="Write a sound to a file (-o FILE.wav)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="With --export: a .wav or .flac file.")
    ] = None,
    device: Annotated[
        str | None, typer.Option("--device", help="With --play: output device, index or name.")
    ] = None,
) -> None:
    """List the cue sounds and recipes; or play one, or write it to a file."""
    codes: list[int] = []
    with reported():
        if play is not None or export is not None:
            _audition(play, export, output, device)
            return
        if output is not None or device is not None:
            raise BadInputError("-o goes with --export, --device with --play")
        from loosen.sound.cues import (
            CUE_KINDS,
            default_cue_recipes,
            list_recipes,
            load_recipe,
            user_sounds_dir,
        )

        recipes = list_recipes()
        defaults = default_cue_recipes(recipes)
        typer.echo("# cue kind -> recipe (a script's [cues] table can change any of them)")
        for cue in CUE_KINDS:
            typer.echo(f"{cue:<14} {defaults[cue]}")
        typer.echo(f"# recipes (add your own .toml recipes in {user_sounds_dir()})")
        for name, path in recipes.items():
            try:
                description = load_recipe(path).description
            except LoosenError as error:  # said, and on to the next recipe
                typer.echo(f"{name:<14} (cannot be read)")
                codes.append(report_error(error, str(path)))
                continue
            typer.echo(f"{name:<14} {description}")
    if worst_exit_code(codes):
        raise typer.Exit(worst_exit_code(codes))


def _audition(
    play: str | None, export: str | None, output: Path | None, device: str | None
) -> None:
    from loosen.sound.audition import export_sound, play_sound, sound_named

    if play is not None and export is not None:
        raise BadInputError("choose one of --play and --export")
    if export is not None:
        if output is None:
            raise BadInputError(f"--export {export}: name the file to write with -o FILE.wav")
        if device is not None:
            raise BadInputError("--device goes with --play")
        sample_rate = 48_000
        export_sound(sound_named(export, sample_rate), sample_rate, output)
        typer.echo(f"Wrote {output}", err=True)
        return
    assert play is not None
    if output is not None:
        raise BadInputError("-o goes with --export")
    sample_rate = 48_000
    play_sound(sound_named(play, sample_rate), sample_rate, device)


@app.command()
def config() -> None:
    """Show your config file, each default it sets, and where every value comes from."""
    with reported():
        from loosen.config import load_defaults

        defaults = load_defaults()
        state = "" if defaults.exists else " (none yet: create it to set defaults)"
        typer.echo(f"# config file: {defaults.path}{state}")
        for key, value, origin in _effective(defaults):
            typer.echo(f"{key:<12} {value:<20} {origin}")
        typer.echo(
            "# command-line options beat the config file, which beats a script "
            "(see the README for voice and rate)"
        )


def _effective(defaults: Defaults) -> list[tuple[str, str, str]]:
    """Each key, its effective value and where it comes from."""
    from loosen.session.choices import DEFAULT_ENGINE

    built_in = {
        "engine": (DEFAULT_ENGINE, "default"),
        "voice": ("the engine's", "default, or the script's voice or language"),
        "rate_wpm": ("150", "default, or the script's rate_wpm"),
        "pace": ("standard", "default"),
        "ambience": ("none", "default, or the script's mix.ambience"),
        "loudness": ("-16 (-19 mono)", "default (LUFS)"),
        "sample_rate": ("48000", "default (Hz)"),
        "channels": ("2", "default"),
    }
    rows = []
    for key, (value, origin) in built_in.items():
        configured = getattr(defaults, key)
        if configured is not None:
            value, origin = str(configured), "config file"
        rows.append((key, value, origin))
    return rows
