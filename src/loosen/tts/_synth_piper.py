"""The speech worker's Piper synthesizer: a neural voice, loaded once, seeded.

Runs inside the worker process (`loosen.tts._worker`); piper and onnxruntime load there only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loosen.tts._worker import WorkerConfig

__all__ = ["SENTENCE_PAUSE_S", "PiperSynthesizer"]

#: Silence between the sentences of one text: Piper speaks them back to back.
SENTENCE_PAUSE_S = 0.4
#: Piper's length scale at `DEFAULT_RATE_WPM`: a little slower than the voice's own pace, calm.
_PIPER_CALM_SCALE = 1.1
_PIPER_SEED = 0


class PiperSynthesizer:
    """A Piper voice, loaded once; each text spoken sentence by sentence, with pauses.

    onnxruntime's random generator is seeded before the voice loads, so the same texts spoken
    in the same order give the same audio in any process.
    """

    def __init__(self, config: WorkerConfig) -> None:
        import onnxruntime
        from piper import PiperVoice

        onnxruntime.set_seed(_PIPER_SEED)
        onnxruntime.set_default_logger_severity(3)  # errors only: no warnings on the terminal
        model = Path(config.voice or "")
        config_path = model.with_name(model.name + ".json")
        self.voice = _load_piper_voice(PiperVoice, onnxruntime, model, config_path)
        self.rate_wpm = config.rate_wpm
        self.backend = f"piper {_piper_version()}, {model.stem}"

    def voices(self) -> tuple[list[tuple[str, str, tuple[str, ...], str | None]], list[str]]:
        """None: the parent lists Piper models itself (`loosen.tts.piper_engine`)."""
        return [], []

    def run(self, seq: int, text: str, timeout_s: float) -> tuple[Any, int]:
        """``text`` spoken: mono float32 of shape (n,), its sentences joined by
        `SENTENCE_PAUSE_S` of silence, and the voice's rate in Hz."""
        import numpy as np
        from piper import SynthesisConfig

        from loosen.tts.base import DEFAULT_RATE_WPM

        settings = SynthesisConfig(
            normalize_audio=False,  # the mix levels the whole track, not each sentence
            length_scale=_PIPER_CALM_SCALE * DEFAULT_RATE_WPM / self.rate_wpm,
        )
        rate_hz = int(self.voice.config.sample_rate)
        pause = np.zeros(round(SENTENCE_PAUSE_S * rate_hz), np.float32)
        parts: list[Any] = []
        for chunk in self.voice.synthesize(text, syn_config=settings):
            if parts:
                parts.append(pause)
            parts.append(np.asarray(chunk.audio_float_array, np.float32).reshape(-1))
        samples = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        return samples, rate_hz


def _load_piper_voice(piper_voice: Any, onnxruntime: Any, model: Path, config_path: Path) -> Any:
    """``PiperVoice.load(model, config_path=config_path)``, but with onnxruntime's graph
    optimisations off: the session opens in 0.12 s instead of 0.4 s (the first thing a cold
    `loosen play` waits for), and speaks as fast (measured with the bundled voice)."""
    import json

    try:
        from piper.config import PiperConfig

        with config_path.open(encoding="utf-8") as file:
            voice_config = PiperConfig.from_dict(json.load(file))
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        session = onnxruntime.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        return piper_voice(config=voice_config, session=session)
    except (ImportError, TypeError, AttributeError):  # another piper-tts: its own way
        return piper_voice.load(model, config_path=config_path)


def _piper_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("piper-tts")
    except PackageNotFoundError:
        return "(unknown version)"
