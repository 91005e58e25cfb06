"""What every speech engine shares: the clip type, voice descriptions and the engine protocol."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self, runtime_checkable

from loosen.errors import BadInputError, SpeechError

if TYPE_CHECKING:  # numpy stays out of a speech worker that does not need it (quicker start)
    import numpy as np
    import numpy.typing as npt

    Samples = npt.NDArray[np.float32]

__all__ = [
    "DEFAULT_RATE_WPM",
    "DEFAULT_VOICE",
    "MAX_RATE_WPM",
    "MIN_RATE_WPM",
    "Clip",
    "ClosingEngine",
    "SpeechEngine",
    "VoiceInfo",
    "check_rate_wpm",
    "describe_choices",
    "resolve_voice",
    "speaks",
    "voice_for_language",
]

#: espeak-ng clamps anything slower than this; slower speech needs gaps, not a lower rate.
MIN_RATE_WPM = 80
MAX_RATE_WPM = 450
DEFAULT_RATE_WPM = 150
DEFAULT_VOICE = "en-us"

#: How many voice ids an error message lists before pointing at ``loosen voices``.
_MAX_LISTED = 12


@dataclass(frozen=True, eq=False)
class Clip:
    """One utterance of synthesized speech.

    Parameters
    ----------
    samples
        Mono audio, ``float32``, shape ``(n_frames,)``, values in ``[-1, 1]``.
    sample_rate
        Frames per second (Hz) of ``samples``.
    """

    samples: Samples
    sample_rate: int

    @property
    def n_frames(self) -> int:
        """Length of the clip in frames (samples of the one channel)."""
        return int(self.samples.shape[0])

    @property
    def duration_s(self) -> float:
        """Length of the clip in seconds."""
        return self.n_frames / self.sample_rate

    def __eq__(self, other: object) -> bool:
        import numpy as np

        if not isinstance(other, Clip):
            return NotImplemented
        return self.sample_rate == other.sample_rate and np.array_equal(self.samples, other.samples)

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class VoiceInfo:
    """A voice an engine offers.

    Parameters
    ----------
    id
        What to pass as ``voice=`` (``"en-us"``); espeak variants may follow (``"en-us+f3"``).
    name
        Human name (``"English (America)"``).
    languages
        Language tags, best match first (``("en-us",)``).
    gender
        ``"male"``, ``"female"`` or ``None`` when the engine does not say.
    """

    id: str
    name: str
    languages: tuple[str, ...]
    gender: str | None


@runtime_checkable
class SpeechEngine(Protocol):
    """A text-to-speech engine: texts in, one :class:`Clip` per text out.

    Attributes
    ----------
    name
        Engine name as given to :func:`loosen.tts.open_engine` (``"pyttsx3"``).
    voice
        The voice id actually used, after resolution (``"en-us"``, ``"en-us+f3"``).
    rate_wpm
        Speaking rate in words per minute.
    clip_rate_hz
        The sample rate (Hz) of its clips, when it is known before it speaks (espeak-ng's
        22050); ``None`` if not. A clip read back from the cache must have it.

    The optional capabilities below have defaults in :class:`ClosingEngine`, which every
    engine here derives from.
    """

    name: str
    voice: str
    rate_wpm: int
    clip_rate_hz: int | None

    @property
    def level_db(self) -> float | None:
        """The level of its speech (dB, RMS), when it is known ahead (a Piper voice's):
        clips are then levelled by this instead of each one measured. ``None``: measure."""
        ...

    @property
    def sentence_pause_s(self) -> float | None:
        """The pause (seconds) it leaves between the sentences of one text, when it speaks
        sentences apart (Piper); ``None``: it speaks a text whole."""
        ...

    def rest(self) -> None:
        """Free what it holds while it is idle (a worker process), to be started again when
        it is next given a line."""
        ...

    def describe(self) -> str:
        """One line naming the engine, its backend, voice and rate."""
        ...

    def voices(self) -> list[VoiceInfo]:
        """Every voice this engine can use (variants excluded)."""
        ...

    def synthesize(self, texts: Sequence[str]) -> Iterator[tuple[str, Clip]]:
        """Yield ``(text, clip)`` for each text, in order, each text in its own clip.

        An empty or blank text gives an empty clip. Raises :class:`loosen.errors.SpeechError`
        when the engine fails.
        """
        ...

    def close(self) -> None:
        """Release the engine (stop worker processes). Safe to call twice."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def check_rate_wpm(rate_wpm: int | None) -> int:
    """Return ``rate_wpm`` (words per minute), or the default for ``None``; reject bad values."""
    if rate_wpm is None:
        return DEFAULT_RATE_WPM
    if isinstance(rate_wpm, bool) or not isinstance(rate_wpm, int):
        raise BadInputError(
            f"speech rate must be a whole number of words per minute, not {rate_wpm!r}"
        )
    if not MIN_RATE_WPM <= rate_wpm <= MAX_RATE_WPM:
        raise BadInputError(
            f"speech rate {rate_wpm} wpm is out of range; use {MIN_RATE_WPM} to {MAX_RATE_WPM} wpm"
        )
    return rate_wpm


def describe_choices(wanted: str, choices: Sequence[str], more: str = "see `loosen voices`") -> str:
    """List the ``choices`` most relevant to ``wanted``, short enough for a one-line error.

    ``more`` says where the full list is, when not all choices are shown.
    """
    stem = wanted.lower().split("+")[0].split("-")[0].split("/")[-1]
    related = [c for c in choices if stem and c.lower().split("/")[-1].startswith(stem)]
    shown = related or list(choices)
    listed = ", ".join(shown[:_MAX_LISTED])
    if len(shown) > _MAX_LISTED or len(shown) < len(choices):
        listed += f", ... ({more})"
    return listed


def resolve_voice(
    engine: str,
    wanted: str | None,
    voices: Sequence[VoiceInfo],
    variants: Sequence[str],
    *,
    friendly_ids: bool,
) -> str:
    """Turn the voice a user asked for into the id to use, or explain what exists.

    Parameters
    ----------
    engine
        Engine name, for messages.
    wanted
        ``"en-us"``, ``"gmw/en-US"`` (when ``friendly_ids``), ``"en-us+f3"``, or ``None`` for
        :data:`DEFAULT_VOICE` (else the first English voice, else the first voice).
    voices, variants
        What the engine offers; variants may follow ``"+"``.
    friendly_ids
        Accept espeak's ``family/id`` form and reduce it to the last part.

    Raises
    ------
    BadInputError
        Unknown voice or variant; the message lists the closest choices.
    """
    ids = [v.id for v in voices]
    if not ids:
        raise SpeechError(f"speech engine {engine} offers no voices")
    if wanted is None:
        if DEFAULT_VOICE in ids:
            return DEFAULT_VOICE
        english = [v.id for v in voices if any(lang.startswith("en") for lang in v.languages)]
        return (english or ids)[0]
    base, plus, variant = wanted.strip().partition("+")
    if friendly_ids:
        base = base.replace("\\", "/").rsplit("/", 1)[-1]
    found = next((i for i in ids if i.lower() == base.lower()), None)
    if found is None:  # a language, as `loosen voices` lists them beside each voice: "en-gb"
        found = _by_language(voices, base)
    if found is None:
        raise BadInputError(
            f"unknown voice {wanted!r} for engine {engine}; "
            f"available: {describe_choices(wanted, ids)}"
        )
    if not plus:
        return found
    found_variant = next((v for v in variants if v.lower() == variant.lower()), None)
    if found_variant is None:
        choices = "none on this platform"
        if variants:
            choices = describe_choices("", variants, f"{len(variants)} in all")
        raise BadInputError(
            f"unknown voice variant {variant!r} in {wanted!r} for engine {engine}; "
            f"available variants: {choices}"
        )
    return f"{found}+{found_variant}"


def _tag(language: str) -> str:
    return language.strip().replace("_", "-").lower()


def _by_language(voices: Sequence[VoiceInfo], language: str) -> str | None:
    """The id of the voice for ``language``: the one that lists it first, else the first that
    lists it at all; None if none does."""
    tag = _tag(language)
    listed = [(voice.id, [_tag(lang) for lang in voice.languages]) for voice in voices]
    first = next((voice_id for voice_id, tags in listed if tags[:1] == [tag]), None)
    return first or next((voice_id for voice_id, tags in listed if tag in tags), None)


def voice_for_language(voices: Sequence[VoiceInfo], language: str) -> str | None:
    """The voice to speak ``language`` (a tag such as ``"en-gb"``) with: :data:`DEFAULT_VOICE`
    if it lists the language, else the voice named like it, else one that lists it (first);
    None if no voice does."""
    tag = _tag(language)
    default = next((v for v in voices if v.id == DEFAULT_VOICE), None)
    if default is not None and tag in [_tag(lang) for lang in default.languages]:
        return default.id
    named = next((v.id for v in voices if v.id.lower() == tag), None)
    return named or _by_language(voices, tag)


def speaks(voice: VoiceInfo | str, language: str) -> bool:
    """Whether ``voice`` (its description, or only its id) speaks ``language``'s language: the
    same primary subtag (``"en-gb"`` speaks ``"en"`` and ``"en-us"``; ``"de"`` does not)."""
    primary = _tag(language).split("-")[0]
    if isinstance(voice, str):
        return _tag(voice).replace("+", "-").split("-")[0] == primary
    return any(_tag(lang).split("-")[0] == primary for lang in voice.languages)


class ClosingEngine:
    """Context-manager support for engines (``with engine:`` closes it at the end), and the
    defaults of the optional capabilities of :class:`SpeechEngine`."""

    level_db: float | None = None
    sentence_pause_s: float | None = None

    def rest(self) -> None:
        """Nothing to free while idle."""

    def close(self) -> None:
        """Release what the engine holds."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
