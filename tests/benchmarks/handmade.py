"""The pipeline a user would write by hand instead of loosen: espeak-ng says each line, sox makes
each silence and chime, and one sox command joins the pieces and resamples them to 48 kHz stereo.

`plan_from` reads a session's timeline (`loosen show --json`) into a `Plan`; `render` runs the
commands. Only speech and chime events make sound; holds, pauses, reps and breaths are the
silence between them. Each distinct line is synthesized once (as a user would reuse a file) and
each distinct chime length made once. A silence fills the gap from the end of the piece before
(its real length, read from the file) to the next event's start, so the result has the session's
length unless a spoken line runs past the next event.
"""

from __future__ import annotations

import subprocess
import wave
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PIECE_RATE_HZ = 22_050  # espeak-ng's output rate; silences and chimes are made at it too
SOUND_KINDS = ("speech", "chime")
CHIME_HZ = 880
BATCH_PIECES = 500  # pieces per sox command (each is an open file)
VOICE = "en-us"
RATE_WPM = 150


@dataclass(frozen=True)
class Sound:
    """One piece of sound on the timeline: a spoken line (key: its text) or a chime (key: its
    length in seconds, as text)."""

    start_s: float
    kind: str
    key: str


@dataclass(frozen=True)
class Plan:
    """What to synthesize and where it goes, from a session's timeline."""

    sounds: tuple[Sound, ...]
    texts: tuple[str, ...]
    chime_lengths_s: tuple[str, ...]
    duration_s: float


def plan_from(timeline: Mapping[str, Any]) -> Plan:
    """The sounds of a ``loosen show --json`` timeline in start order, and what they need."""
    events = sorted(
        (e for e in timeline["events"] if e["kind"] in SOUND_KINDS), key=lambda e: e["start_s"]
    )
    sounds = tuple(
        Sound(e["start_s"], e["kind"], e["text"] if e["kind"] == "speech" else _chime_key(e))
        for e in events
    )
    return Plan(
        sounds=sounds,
        texts=tuple(dict.fromkeys(s.key for s in sounds if s.kind == "speech")),
        chime_lengths_s=tuple(dict.fromkeys(s.key for s in sounds if s.kind == "chime")),
        duration_s=timeline["duration_s"],
    )


def render(plan: Plan, folder: Path, out: Path) -> None:
    """Run the pipeline: espeak-ng and sox commands in ``folder``, the result in ``out``."""
    lines = synthesize_lines(plan.texts, folder)
    chimes = make_chimes(plan.chime_lengths_s, folder)
    pieces = lay_out(plan, {"speech": lines, "chime": chimes}, folder)
    join(pieces, out, folder)


def synthesize_lines(texts: Sequence[str], folder: Path) -> dict[str, Path]:
    """One WAV per text: ``espeak-ng -v en-us -s 150 -w line.wav "text"``."""
    files = {}
    for number, text in enumerate(texts):
        path = folder / f"line-{number:04}.wav"
        _run(["espeak-ng", "-v", VOICE, "-s", str(RATE_WPM), "-w", str(path), text])
        files[text] = path
    return files


def make_chimes(lengths_s: Sequence[str], folder: Path) -> dict[str, Path]:
    """One sine chime per distinct length, faded in briefly and out over its second half."""
    files = {}
    for number, length_s in enumerate(lengths_s):
        path = folder / f"chime-{number:02}.wav"
        seconds = float(length_s)
        fade = ["fade", "q", f"{min(0.01, seconds / 4):g}", length_s, f"{seconds / 2:g}"]
        _run([*_sox_new(path), "synth", length_s, "sine", str(CHIME_HZ), *fade, "vol", "0.5"])
        files[length_s] = path
    return files


def lay_out(plan: Plan, files: Mapping[str, Mapping[str, Path]], folder: Path) -> list[Path]:
    """The pieces in order, making with sox the silence before each sound and after the last."""
    pieces: list[Path] = []
    position = 0  # in frames at PIECE_RATE_HZ
    for sound in plan.sounds:
        piece = files[sound.kind][sound.key]
        position += _add_silence(pieces, folder, round(sound.start_s * PIECE_RATE_HZ) - position)
        pieces.append(piece)
        position += _frames(piece)
    _add_silence(pieces, folder, round(plan.duration_s * PIECE_RATE_HZ) - position)
    return pieces


def join(pieces: Sequence[Path], out: Path, folder: Path) -> None:
    """Concatenate the pieces and resample them to 48 kHz stereo 16-bit, in one sox command
    (joined in batches first when there are too many to open at once)."""
    parts = list(pieces)
    while len(parts) > BATCH_PIECES:
        batches = [parts[i : i + BATCH_PIECES] for i in range(0, len(parts), BATCH_PIECES)]
        parts = [_concatenate(batch, folder / f"batch-{len(parts)}-{n}.wav", [])
                 for n, batch in enumerate(batches)]  # fmt: skip
    _concatenate(parts, out, ["rate", "48k", "channels", "2"])


def _add_silence(pieces: list[Path], folder: Path, frames: int) -> int:
    """Append ``frames`` of silence (made by sox) to ``pieces``; return the frames added."""
    if frames <= 0:
        return 0  # the piece before ran into this sound's slot
    path = folder / f"silence-{len(pieces):04}.wav"
    _run([*_sox_new(path), "trim", "0", f"{frames}s"])
    pieces.append(path)
    return frames


def _concatenate(parts: Sequence[Path], out: Path, effects: Sequence[str]) -> Path:
    _run(["sox", *map(str, parts), "-b", "16", str(out), *effects])
    return out


def _sox_new(path: Path) -> list[str]:
    """The start of a sox command that makes ``path`` from nothing at the pieces' rate (the rate
    goes before ``-n``: after it, sox makes 48 kHz, counts ``trim``'s samples at 48 kHz, and
    resamples)."""
    return ["sox", "-r", str(PIECE_RATE_HZ), "-c", "1", "-n", "-b", "16", str(path)]


def _frames(path: Path) -> int:
    with wave.open(str(path), "rb") as file:
        return file.getnframes()


def _chime_key(event: Mapping[str, Any]) -> str:
    return f"{event['end_s'] - event['start_s']:.3f}"


def _run(command: Sequence[str]) -> None:
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
