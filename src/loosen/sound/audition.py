"""Hear a sound on its own (`loosen sounds --play NAME`, `--export NAME`): a cue kind's sound, a
cue recipe, or a few seconds of an ambience, as a session would play it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from loosen.atomic import atomic_path, write_error
from loosen.errors import BadInputError, PlaybackError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Frames = npt.NDArray[np.float32]

__all__ = ["AMBIENCE_SAMPLE_S", "export_sound", "play_sound", "sound_named"]

#: how much of an ambience is heard on its own, fades included
AMBIENCE_SAMPLE_S = 10.0
_SUFFIXES = {".wav": "WAV", ".flac": "FLAC"}


def sound_named(name: str, sample_rate: int = 48_000) -> Frames:
    """The sound called ``name``: a cue kind (``hold_end``: the recipe that sounds it), a recipe
    (``bowl-low``), or an ambience (``surf``: `AMBIENCE_SAMPLE_S` of it, faded in and out).

    Returns float32 frames, shape ``(n, channels)``: one channel for a cue, two for an ambience.

    Raises
    ------
    BadInputError
        For a name that is none of these (the message lists them).
    ScriptError
        For a recipe file that is malformed.
    """
    import numpy as np

    from loosen.sound.cues import (
        CUE_KINDS,
        AmbienceRecipe,
        list_recipes,
        load_cue_set,
        load_recipe,
        render_cue,
        synthesize,
    )

    if name in CUE_KINDS:
        return np.asarray(render_cue(name, load_cue_set(), sample_rate))[:, None]
    recipes = list_recipes()
    if name not in recipes:
        raise BadInputError(
            f"no sound named {name!r}; cue kinds: {', '.join(CUE_KINDS)}; recipes: "
            f"{', '.join(recipes)} (see `loosen sounds`)"
        )
    recipe = load_recipe(recipes[name])
    if isinstance(recipe, AmbienceRecipe):
        from loosen.sound.ambience import AmbienceTrack

        frames = round(AMBIENCE_SAMPLE_S * sample_rate)
        track = AmbienceTrack(recipe, sample_rate, channels=2, level_db=0.0)
        return track.block(0, frames, [], fade_out=track.fade_out_span(frames, 0))
    return synthesize(recipe, sample_rate)[:, None]


def play_sound(frames: Frames, sample_rate: int, device: str | None = None) -> None:
    """Play ``frames`` through the audio output (``device``: an index or part of a name, as for
    `loosen play`) and return when they have been heard.

    Raises
    ------
    PlaybackError
        Without PortAudio or an output device. Ctrl+C stops the sound at once.
    """
    from loosen.playback.devices import load_sounddevice, native_stderr_silenced, resolve_device

    with native_stderr_silenced():
        sd = load_sounddevice()
        index = resolve_device(device)
        try:
            sd.play(frames, sample_rate, device=index)
            sd.wait()
        except sd.PortAudioError as error:
            raise PlaybackError(
                f"cannot play: {error}; try `loosen devices`, or write the sound to a file "
                "with `loosen sounds --export`"
            ) from None
        except KeyboardInterrupt:
            sd.stop()
            raise


def export_sound(frames: Frames, sample_rate: int, path: Path) -> None:
    """Write ``frames`` to ``path`` (``.wav``: 16-bit PCM, or ``.flac``), atomically: the file
    is complete or absent.

    Raises
    ------
    BadInputError
        For another extension, or a folder that does not exist.
    ExportError
        When the file cannot be written.
    """
    import soundfile

    file_format = _SUFFIXES.get(path.suffix.lower())
    if file_format is None:
        raise BadInputError(f"{path}: a sound is written as .wav or .flac")
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        raise BadInputError(f"{path}: the folder {folder} does not exist")
    if path.is_dir():
        raise BadInputError(f"{path}: is a folder; name the file to write")
    try:
        with atomic_path(path) as temp:
            soundfile.write(temp, frames, sample_rate, subtype="PCM_16", format=file_format)
    except (OSError, RuntimeError) as error:  # soundfile's errors are RuntimeErrors
        raise write_error(path, "the sound", error) from None
