"""The options of a session (`SessionOptions`, `MixOptions`), of an export (`ExportOptions`),
and what a front end hears while the library works (`Listener`). Plain data: picklable, so a
batch export's worker process can be given them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["QUIET", "ExportOptions", "Listener", "MixOptions", "SessionOptions"]


@dataclass(frozen=True)
class MixOptions:
    """Level changes in dB and the sounds under the voice; None: as the script says.
    ``ambience`` is a bundled bed's name (``"surf"``) or ``"none"`` to turn the script's off."""

    voice_db: float | None = None
    chime_db: float | None = None
    ambience: str | None = None
    ambience_db: float | None = None
    breath_tone: bool | None = None


@dataclass(frozen=True)
class SessionOptions:
    """How a session is spoken, paced and mixed; None: the config file's, else the script's.

    ``pace``: a factor scaling every scripted silence (1.2) or a preset's name ("gentle");
    ``fit``: the length to fit the session to, in seconds or as written ("15m", "15:00"); at
    most one of the two. ``settings``: changes as ``"STEP.KEY=VALUE"`` or
    ``"pacing.KEY=VALUE"``. ``sample_rate`` in Hz (default 48000); ``channels`` 1 or 2 (default
    2). ``cache``: reuse speech synthesized before (the speech cache).
    """

    engine: str | None = None
    voice: str | None = None
    voice_model: Path | None = None
    rate_wpm: int | None = None
    pace: str | float | None = None
    fit: str | float | None = None
    settings: tuple[str, ...] = ()
    mix: MixOptions = field(default_factory=MixOptions)
    sample_rate: int | None = None
    channels: int | None = None
    cache: bool = True


@dataclass(frozen=True)
class ExportOptions:
    """What an export writes besides the audio. ``loudness``: LUFS, None (the config file's,
    else -16 stereo, -19 mono) or ``"off"`` (the renderer's own levels). ``quality`` of a
    lossy format: low, standard or high. ``sidecars``: cue, audacity, json, vtt. ``split``: one
    file per chapter into a folder, of ``split_format`` (wav, flac, ogg, mp3, opus, m4a, m4b).
    ``timeline``: also write the timeline as JSON there. ``cover``: the front cover every
    format but WAV carries: None, one generated from the session's title; a JPEG or PNG file
    (a path: a string other than "off" is one too); or ``"off"``, none."""

    loudness: str | float | None = None
    quality: str | None = None
    sidecars: tuple[str, ...] = ()
    split: bool = False
    split_format: str = "wav"
    timeline: Path | None = None
    cover: Path | str | None = None


@dataclass(frozen=True)
class Listener:
    """What a front end hears while the library works; each part is optional.

    ``progress(stage, done, total)``: a stage such as "Speaking" (lines), "Measuring loudness"
    or "Writing back.wav" (frames); ``total`` is 0 while unknown. It may be called from a
    worker thread. ``detail``: what a verbose front end shows (the engine and voice chosen,
    the fitted pace, the gain). ``notice``: what a listener should be told as a matter of
    course (where playback resumes, or why it cannot). ``warning``: what a user should be told
    is amiss (a loudness out of reach)."""

    progress: Callable[[str, int, int], None] | None = None
    detail: Callable[[str], None] | None = None
    notice: Callable[[str], None] | None = None
    warning: Callable[[str], None] | None = None

    def tell(self, line: str) -> None:
        if self.detail is not None:
            self.detail(line)

    def say(self, line: str) -> None:
        if self.notice is not None:
            self.notice(line)

    def warn(self, line: str) -> None:
        if self.warning is not None:
            self.warning(line)

    def stage(self, name: str) -> Callable[[int, int], None] | None:
        """``progress`` for one stage, as ``(done, total)``; None if nobody listens."""
        progress = self.progress
        if progress is None:
            return None
        return lambda done, total: progress(name, done, total)

    def counter(self, name: str, total: int) -> Callable[[int], None] | None:
        """``progress`` for one stage of ``total`` units (0: unknown), as the units done since
        the last call; None if nobody listens."""
        progress = self.progress
        if progress is None:
            return None
        done = 0

        def count(units: int) -> None:
            nonlocal done
            done += units
            progress(name, done, total)

        return count


#: a listener that hears nothing
QUIET = Listener()
