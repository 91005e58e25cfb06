"""The pyttsx3 worker process: one engine, many texts, one text per file, nothing on stdout.

Runs in a child started with the multiprocessing *spawn* context (pyttsx3 misbehaves after fork)
so that the parent can kill it when pyttsx3 hangs. The parent talks to :func:`serve` over a pipe:

==========================  =====================================================
parent -> worker            worker -> parent
==========================  =====================================================
(start)                     ``("ready", backend)`` or ``("fatal", message)``
``("synth", seq, text, s)``  ``("clip", seq, text, samples, sample_rate)`` or
                            ``("failed", seq, message)``
``("voices",)``             ``("voices", [(id, name, languages, gender), ...], variants)``
``("stop",)``               (exits)
==========================  =====================================================

``s`` is the longest wait in seconds for that text; ``samples`` is mono float32 of shape
``(n_frames,)``, or 16-bit little-endian PCM as bytes; ``sample_rate`` in Hz; ``variants`` the
espeak voice variant names, if any.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import struct
import sys
import threading
import time
import wave
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from loosen.errors import SpeechError
from loosen.processes import process_alive
from loosen.tts.espeak_loader import (
    EspeakPlan,
    friendly_voice_id,
    list_espeak_variants,
    load_espeak,
)

__all__ = ["WorkerConfig", "serve"]

_POLL_S = 0.005


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker needs to start.

    Parameters
    ----------
    driver
        pyttsx3 driver name (``"espeak"``, ``"nsss"``, ``"sapi5"``) or ``None`` for its default.
    voice
        Voice id for pyttsx3's ``voice`` property, or ``None`` to keep the driver's.
    rate_wpm
        Speaking rate in words per minute.
    plan
        Which libespeak-ng to load first (Linux), or ``None``.
    parent_pid
        The process that started the worker: the worker does not outlive it.
    fault
        Test hook: ``"hang"`` (never answer a text), ``"die"`` (exit on a text),
        ``"exit-on-start"``, ``"missing-data"``. ``None`` in real use.
    backend
        ``"pyttsx3"``, or ``"piper"``: a Piper voice (``voice`` is then the model's path, and
        ``driver`` and ``plan`` are unused).
    """

    driver: str | None
    voice: str | None
    rate_wpm: int
    plan: EspeakPlan | None
    parent_pid: int
    fault: str | None = None
    backend: str = "pyttsx3"


def serve(conn: Connection, config: WorkerConfig) -> None:
    """Entry point of the worker process: start pyttsx3, then answer requests until told to
    stop, or until the parent is gone (then it leaves at once and quietly: nothing of it may
    reach the user's terminal)."""
    _silence_stdout()
    _keep_native_stderr()
    # Ctrl+C reaches the whole process group: the parent decides when the worker stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with(config.parent_pid)
    try:
        _serve(conn, config)
    except (BrokenPipeError, EOFError, ConnectionError):
        pass  # the parent is gone: nobody to answer
    finally:
        _remove_own_folders()


def _serve(conn: Connection, config: WorkerConfig) -> None:
    if config.fault == "exit-on-start":
        os._exit(1)  # what espeak-ng does when it cannot find its data
    synthesizer: _Synthesizer | _PiperSynthesizer | _EspeakSynthesizer
    try:
        if config.backend == "piper":
            synthesizer = _PiperSynthesizer(config)
            backend = synthesizer.backend
        elif config.driver == "espeak" and config.plan is not None and hasattr(os, "fork"):
            synthesizer = _EspeakSynthesizer(config)
            backend = synthesizer.backend
        else:
            engine, backend = _start_engine(config)
            synthesizer = _Synthesizer(engine, _own_folder(), config)
    except Exception as exc:
        conn.send(("fatal", _one_line(exc)))
        return
    conn.send(("ready", backend))
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request[0] == "stop":
            return
        if request[0] == "voices":
            if isinstance(synthesizer, _PiperSynthesizer):
                conn.send(("voices", [], []))  # the parent lists Piper models itself
            elif isinstance(synthesizer, _EspeakSynthesizer):
                session = synthesizer.session
                conn.send(("voices", session.voices(), session.variants()))
            else:
                engine = synthesizer.engine
                conn.send(("voices", _list_voices(engine, config), _list_variants(engine)))
            continue
        _, seq, text, timeout_s = request
        if config.fault == "hang":
            time.sleep(3600)
        if config.fault == "die":
            os._exit(3)
        try:
            samples, sample_rate = synthesizer.run(seq, text, timeout_s)
        except Exception as exc:
            conn.send(("failed", seq, _one_line(exc)))
        else:
            conn.send(("clip", seq, text, samples, sample_rate))


_FOLDER_PREFIX = "loosen-tts-"


def _die_with(parent_pid: int) -> None:
    """Have this process killed when its parent dies (Linux: the parent-death signal), so a
    killed `loosen` leaves no speech worker behind; elsewhere the pipe's end tells it."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent_pid:  # it died before the signal was asked for
        os._exit(0)


def _own_folder() -> Path:
    """A fresh folder for this worker's files, named by its process id; those that workers
    killed outright left behind are removed first."""
    import tempfile

    root = Path(tempfile.gettempdir())
    for folder in root.glob(f"{_FOLDER_PREFIX}*"):
        pid = folder.name[len(_FOLDER_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{_FOLDER_PREFIX}{os.getpid()}-", dir=root))


def _remove_own_folders() -> None:
    import tempfile

    for folder in Path(tempfile.gettempdir()).glob(f"{_FOLDER_PREFIX}{os.getpid()}-*"):
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    return process_alive(pid)  # never os.kill: on Windows that ends the process


_native_stderr: list[Any] = []  # the file the worker's fd 2 writes to


def _keep_native_stderr() -> None:
    """Send what the speech library prints on fd 2 (espeak-ng's complaints about its data) to a
    file of the worker's, never the user's terminal; `_native_said` tells the last of it."""
    import tempfile

    kept = tempfile.TemporaryFile()  # noqa: SIM115  (open as long as the worker lives)
    os.dup2(kept.fileno(), 2)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), write_through=True)
    _native_stderr.append(kept)


def _native_said() -> str:
    """The last line the speech library printed, or ``""``."""
    if not _native_stderr:
        return ""
    kept = _native_stderr[0]
    with contextlib.suppress(OSError, ValueError):
        size = kept.seek(0, os.SEEK_END)
        kept.seek(max(0, size - 2000))
        lines = [line.strip() for line in kept.read().decode("utf-8", "replace").splitlines()]
        return next((line for line in reversed(lines) if line), "")
    return ""


def _silence_stdout() -> None:
    # pyttsx3's espeak driver prints "Audio saved to ..." for every file: keep it off the
    # user's terminal, at the file descriptor level too (the parent's fd 1 is inherited).
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=True)


def _start_engine(config: WorkerConfig) -> tuple[Any, str]:
    plan = config.plan
    if plan is not None and config.fault == "missing-data":
        plan = EspeakPlan(plan.source, plan.library, "/nonexistent/espeak-ng-data", plan.version)
    if plan is not None:
        load_espeak(plan)
    import pyttsx3

    engine = pyttsx3.init(config.driver)
    backend = str(engine)
    if backend == "espeak" and plan is not None:
        from pyttsx3.drivers import _espeak

        version = _espeak.Info().decode("utf-8", "replace")
        loaded = EspeakPlan(plan.source, plan.library, plan.data_path, version)
        backend = loaded.describe()
    if config.voice is not None:
        engine.setProperty("voice", config.voice)
    engine.setProperty("rate", config.rate_wpm)
    return engine, backend


def _list_voices(
    engine: Any, config: WorkerConfig
) -> list[tuple[str, str, tuple[str, ...], str | None]]:
    result = []
    for voice in engine.getProperty("voices"):
        voice_id = str(voice.id)
        if config.plan is not None:
            voice_id = friendly_voice_id(voice_id)
        languages = tuple(str(lang) for lang in (voice.languages or ()))
        gender = str(voice.gender).lower() if voice.gender else None
        result.append((voice_id, str(voice.name), languages, gender))
    return result


def _list_variants(engine: Any) -> list[str]:
    if str(engine) != "espeak":
        return []
    import ctypes

    from pyttsx3.drivers import _espeak

    data_path = ctypes.c_char_p()
    _espeak.Info(ctypes.addressof(data_path))
    if not data_path.value:
        return []
    return list(list_espeak_variants(data_path.value.decode("utf-8", "replace")))


class _EspeakSynthesizer:
    """espeak-ng in memory through pyttsx3's own bindings (`EspeakSession`), each text spoken
    by a child process forked from this one as it stands after start-up.

    espeak-ng carries a little state from one text to the next (its voice's pitch variation
    goes on where it left off), so the same text spoken after different ones differs by a few
    samples, and its length by a few frames; nothing in its API resets that. A child forked for
    each text starts from the same state every time, so a text's clip depends on the voice, the
    rate and the text alone: whichever worker or process speaks it, in whatever order, cold or
    after a repair. A fork of this single-threaded process costs about a millisecond.
    """

    def __init__(self, config: WorkerConfig) -> None:
        from loosen.tts.espeak_session import EspeakSession

        assert config.plan is not None
        plan = config.plan
        if config.fault == "missing-data":
            plan = EspeakPlan(
                plan.source, plan.library, "/nonexistent/espeak-ng-data", plan.version
            )
        self.session = EspeakSession(plan)
        if config.voice is not None:
            self.session.set_voice(config.voice)
        self.session.set_rate(config.rate_wpm)
        self._fault = config.fault
        self._pid = os.getpid()
        loaded = EspeakPlan(plan.source, plan.library, plan.data_path, self.session.version)
        self.backend = loaded.describe() + ", in memory"
        try:  # in a child, as every text: the state that texts start from is left as it is
            self.run(0, "Ready.", 10.0)
        except (SpeechError, TimeoutError) as error:
            raise SpeechError(
                f"espeak-ng cannot speak with its data at {plan.data_path} ({error}); "
                "reinstall espeakng-loader"
            ) from None

    def run(self, seq: int, text: str, timeout_s: float) -> tuple[Any, int]:
        readable, writable = os.pipe()
        child = os.fork()
        if child == 0:  # the child: speak, hand the samples over, and leave without clean-up
            os.close(readable)
            _die_with(self._pid)
            status, payload = 0, b""
            try:
                if self._fault == "drop-rate" and seq:  # test hook: the rate lost in espeak-ng
                    self.session._espeak.SetParameter(self.session._espeak.RATE, 200, 0)
                payload = self.session.speak(text)
            except BaseException as exc:  # reported by the worker, as any failure
                status, payload = 1, _one_line(exc).encode("utf-8", "replace")
            with contextlib.suppress(OSError):
                _write_all(writable, bytes((status,)) + payload)
            os._exit(0)
        os.close(writable)
        try:
            data = _read_all(readable, time.monotonic() + timeout_s)
        except TimeoutError:
            with contextlib.suppress(OSError):
                os.kill(child, signal.SIGKILL)
            raise
        finally:
            os.close(readable)
            status = 0
            with contextlib.suppress(ChildProcessError):
                status = os.waitpid(child, 0)[1]
        if not data:
            how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else "no answer"
            said = _native_said()
            raise SpeechError(f"espeak-ng crashed ({how})" + (f": {said}" if said else ""))
        if data[0] != 0:
            raise SpeechError(data[1:].decode("utf-8", "replace"))
        pcm = data[1:]
        if not pcm and any(c.isalnum() for c in text):
            raise RuntimeError(f"espeak-ng spoke nothing for text {seq}")
        return pcm, self.session.sample_rate_hz


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_all(fd: int, deadline: float) -> bytes:
    """Everything written to the pipe ``fd`` until its writer closes it; `TimeoutError` past
    ``deadline`` (a ``time.monotonic()`` value)."""
    import select

    parts: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError("espeak-ng gave no answer in time")
        part = os.read(fd, 1 << 20)
        if not part:
            return b"".join(parts)
        parts.append(part)


class _Synthesizer:
    """Drives pyttsx3 the one safe way: one text per save_to_file/runAndWait, then wait."""

    def __init__(self, engine: Any, workdir: Path, config: WorkerConfig) -> None:
        self.engine = engine
        self._engine = engine
        self._config = config
        self._workdir = workdir
        self._suffix = ".aiff" if str(engine) == "nsss" else ".wav"
        self._finished = threading.Event()
        engine.connect("finished-utterance", self._on_finished)

    def _on_finished(self, **_: object) -> None:
        self._finished.set()

    def run(self, seq: int, text: str, timeout_s: float) -> tuple[Any, int]:
        for stale in self._workdir.iterdir():
            stale.unlink()
        path = self._workdir / f"utterance-{seq:06d}{self._suffix}"
        deadline = time.monotonic() + timeout_s
        self._finished.clear()
        # The rate is set once, at start-up (`_start_engine`). Setting it again before every
        # text through espeak-ng's own call made pyttsx3 lose whole texts ("no audio") far more
        # often, and so did pyttsx3's setProperty per text; a rate seen lost at start-up is why
        # a second worker starts only once the first has spoken (`loosen.tts.Speech`).
        self._engine.save_to_file(text, str(path))
        self._engine.runAndWait()
        if not self._finished.wait(max(0.0, deadline - time.monotonic())):
            raise TimeoutError(f"no finished-utterance event after {timeout_s:.1f} s")
        _wait_until_complete(path, deadline)
        self._settle(deadline)
        # Each text has its own file: any other file means pyttsx3 mixed utterances up.
        others = [p.name for p in self._workdir.iterdir() if p != path]
        if others:
            raise RuntimeError(f"pyttsx3 wrote unexpected files {others} for text {seq}")
        samples, sample_rate = _read_speech(path)
        path.unlink()
        if len(samples) == 0 and any(c.isalnum() for c in text):
            # pyttsx3 has been seen writing an empty file for a real text: retry, never keep it
            raise RuntimeError(f"pyttsx3 wrote no audio for text {seq}")
        return samples, sample_rate

    def _settle(self, deadline: float) -> None:
        # espeak's driver fires finished-utterance from espeak's thread, then still calls
        # setBusy/endLoop: starting the next text before that returns can lose the next text.
        if str(self._engine) != "espeak":
            return
        from pyttsx3.drivers import _espeak

        while _espeak.IsPlaying():
            if time.monotonic() > deadline:
                raise TimeoutError("espeak-ng did not become idle")
            time.sleep(_POLL_S)


def _read_speech(path: Path) -> tuple[Any, int]:
    """The samples of ``path`` and its rate: a 16-bit mono WAV (espeak-ng's) as its
    little-endian bytes, read without numpy, which this worker then need not load; anything
    else as mono float32 through soundfile."""
    with contextlib.suppress(wave.Error, EOFError), wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() == 2 and wav.getnchannels() == 1 and wav.getcomptype() == "NONE":
            return wav.readframes(wav.getnframes()), wav.getframerate()
    import numpy as np
    import soundfile

    with soundfile.SoundFile(path) as audio:
        frames = audio.read(dtype="float32", always_2d=True)
        sample_rate = int(audio.samplerate)
    return np.ascontiguousarray(frames.mean(axis=1, dtype=np.float32)), sample_rate


def _wait_until_complete(path: Path, deadline: float) -> None:
    while not _is_complete(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"audio file {path.name} missing or incomplete")
        time.sleep(_POLL_S)


def _is_complete(path: Path) -> bool:
    """True when ``path`` holds a whole WAV/AIFF file: chunk sizes agree with the file size."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    if len(data) < 12:
        return False
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return _riff_complete(data)
    if data[:4] == b"FORM":
        form_size: int = struct.unpack(">I", data[4:8])[0]
        return form_size + 8 <= len(data)
    return _readable(path)


def _riff_complete(data: bytes) -> bool:
    riff_size: int = struct.unpack("<I", data[4:8])[0]
    if riff_size + 8 > len(data):
        return False
    offset = 12
    while offset + 8 <= len(data):
        chunk_id = data[offset : offset + 4]
        size: int = struct.unpack("<I", data[offset + 4 : offset + 8])[0]
        if chunk_id == b"data":
            return offset + 8 + size <= len(data)
        offset += 8 + size + (size & 1)
    return False


def _readable(path: Path) -> bool:
    import soundfile

    with contextlib.suppress(Exception):
        soundfile.info(str(path))
        return True
    return False


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, SpeechError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


#: Silence between the sentences of one text: Piper speaks them back to back.
SENTENCE_PAUSE_S = 0.4
#: Piper's length scale at `DEFAULT_RATE_WPM`: a little slower than the voice's own pace, calm.
_PIPER_CALM_SCALE = 1.1
_PIPER_SEED = 0


class _PiperSynthesizer:
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

    def run(self, seq: int, text: str, timeout_s: float) -> tuple[Any, int]:
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
