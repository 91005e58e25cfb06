"""What is available: voices and sounds."""

from __future__ import annotations

from typing import Annotated

import typer

from loosen.cli.common import (
    EngineOpt,
    app,
    reported,
)


@app.command()
def voices(
    engine: EngineOpt = "pyttsx3",
    language: Annotated[
        str | None, typer.Option("--language", help="Only voices for this language prefix.")
    ] = None,
) -> None:
    """List the voices of a speech engine."""
    with reported():
        from loosen.tts import open_engine

        with open_engine(engine) as speech_engine:
            typer.echo(f"# {speech_engine.describe()}")
            for info in speech_engine.voices():
                languages = ",".join(info.languages)
                if language and not any(lang.startswith(language) for lang in info.languages):
                    continue
                typer.echo(f"{info.id:<24} {info.name:<28} {languages}")


@app.command()
def sounds() -> None:
    """List the cue sounds: which recipe sounds each cue, and every recipe available."""
    with reported():
        from loosen.sounds import (
            CUE_KINDS,
            Recipe,
            list_recipes,
            load_cue_set,
            load_recipe,
            user_sounds_dir,
        )

        cue_set = load_cue_set()
        typer.echo("# cue kind -> recipe (a script's [cues] table can change any of them)")
        for cue in CUE_KINDS:
            source = cue_set.sources[cue]
            name = source.name if isinstance(source, Recipe) else str(source.path)
            typer.echo(f"{cue:<14} {name}")
        typer.echo(f"# recipes (add your own .toml recipes in {user_sounds_dir()})")
        for name, path in list_recipes().items():
            typer.echo(f"{name:<14} {load_recipe(path).description}")
