"""Test helpers for playing through a real audio server and checking what came out.

The path under test is PortAudio -> ALSA `default` -> PulseAudio null sink -> its monitor ->
`parecord`. `.ci/run` sets that up; on a developer's machine the tests skip unless the default
PulseAudio sink is a null sink (nothing is ever played on real speakers).

The null sink is not a wall clock (idle, it renders in blocks of up to 2 s): only positions
*inside* a recording mean something, so compare offsets between events, never against a clock.
Measured on this path (float32 48 kHz null sink): between the edges a stream arrives bit-exact,
but the first 10-17 ms of each PortAudio stream come out as silence, and the last ~20 ms of a
stream ended by `sounddevice.play(blocking=True)` (~40 ms when an `OutputStream` is closed) never
arrive. Leave 50 ms of silence at both ends of what you compare, or compare the middle.
"""

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import NoReturn, Self

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf

Audio = npt.NDArray[np.float32]
Floats = npt.NDArray[np.floating]

NULL_SINK_DRIVER = "module-null-sink.c"


def _unavailable(reason: str) -> NoReturn:
    message = f"no PulseAudio server with a null sink: {reason}"
    if os.environ.get("LOOSEN_REQUIRE_AUDIO"):
        pytest.fail(f"{message} (LOOSEN_REQUIRE_AUDIO is set)")
    pytest.skip(message)


def _pactl(*args: str) -> str:
    pactl = shutil.which("pactl")
    if pactl is None:
        _unavailable("pactl is not installed (Debian: pulseaudio-utils)")
    try:
        done = subprocess.run(
            [pactl, *args], capture_output=True, text=True, timeout=10, check=False
        )
    except subprocess.TimeoutExpired:
        _unavailable(f"`pactl {' '.join(args)}` timed out")
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[0]
        _unavailable(f"`pactl {' '.join(args)}` failed: {reason}")
    return done.stdout


def require_audio_server() -> str:
    """The null sink ALSA's default device plays into; else skip (fail under LOOSEN_REQUIRE_AUDIO).

    Checks that parecord and pactl are there (pulseaudio-utils), that the server answers and its
    default sink is a null sink (so nothing reaches real speakers), that sounddevice loads
    (libportaudio2) and that PortAudio sees ALSA's PulseAudio plugin (libasound2-plugins).
    """
    if shutil.which("parecord") is None:
        _unavailable("parecord is not installed (Debian: pulseaudio-utils)")
    _pactl("info")  # a clear message when the server is unreachable
    default = _pactl("get-default-sink").strip()
    drivers = {
        fields[1]: fields[2]
        for line in _pactl("list", "short", "sinks").splitlines()
        if len(fields := line.split("\t")) >= 3
    }
    if drivers.get(default) != NULL_SINK_DRIVER:
        nulls = sorted(name for name, driver in drivers.items() if driver == NULL_SINK_DRIVER)
        _unavailable(
            f"the default sink {default!r} is not a null sink (null sinks: {nulls or 'none'}; "
            "see `.ci/run` to set one up)"
        )
    try:
        import sounddevice as sd  # loads PortAudio: only once a server is there
    except OSError as error:  # "PortAudio library not found"
        _unavailable(f"sounddevice cannot load PortAudio (Debian: libportaudio2): {error}")
    if "pulse" not in {str(device["name"]) for device in sd.query_devices()}:
        _unavailable("PortAudio sees no ALSA `pulse` device (Debian: libasound2-plugins)")
    return default


class Recorder:
    """Record a sink's monitor to a float32 WAV file with `parecord` while the block runs.

    On entry it refuses a sink something is already playing into (that would be mixed into the
    recording), starts parecord, wakes the sink and waits until data reaches the file: from then
    on the monitor delivers a continuous stream, silence included, so the recording starts before
    anything played in the block. On exit it waits until what was played has reached the file,
    then stops parecord with SIGINT so the WAV header is finalised. parecord's messages go to
    `<path>.log`.
    """

    def __init__(self, sink: str, path: Path, rate: int = 48_000, channels: int = 2) -> None:
        self.sink = sink
        self.path = path
        self.rate = rate
        self.channels = channels
        self.log_path = path.with_name(path.name + ".log")
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        playing = _streams_into(self.sink)
        if playing:
            raise RuntimeError(
                f"something is already playing into {self.sink!r} and would be recorded too: "
                + "; ".join(playing)
            )
        command = [
            _tool("parecord"),
            "--verbose",  # prints "Connected to device" once the stream is attached
            f"--device={self.sink}.monitor",
            "--file-format=wav",
            "--format=float32le",
            f"--rate={self.rate}",
            f"--channels={self.channels}",
            "--latency-msec=20",  # small fragments; also keeps the null sink's latency at ~20 ms
            str(self.path),
        ]
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        try:
            self._wait_for(lambda: b"Connected to device" in self.log_path.read_bytes())
            self._wake(header=self.path.stat().st_size)  # the header is written before connecting
        except BaseException:
            process, self._process = self._process, None
            self._stop(process, settle=False)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        process, self._process = self._process, None
        if process is not None:
            self._stop(process, settle=kind is None)

    def read(self) -> Audio:
        """The recording as float32 samples, shape (frames, channels)."""
        samples, rate = sf.read(self.path, dtype="float32", always_2d=True)
        if rate != self.rate or samples.shape[1] != self.channels:
            raise RuntimeError(f"{self.path}: {rate} Hz x {samples.shape[1]}, not as requested")
        return np.asarray(samples, dtype=np.float32)

    def _wake(self, header: int) -> None:
        """Make the sink render now, then wait until data reaches the file.

        An idle null sink sleeps for up to its maximum latency (2 s) between renders, and its
        monitor delivers nothing meanwhile. Suspending and resuming it restarts its clock, now at
        the 20 ms latency parecord asked for; from then on the monitor delivers continuously.
        (Safe: nothing plays into the sink, `__enter__` checked.)
        """
        for suspend in ("1", "0"):
            command = [_tool("pactl"), "suspend-sink", self.sink, suspend]
            subprocess.run(command, capture_output=True, timeout=10, check=True)
        self._wait_for(lambda: self.path.stat().st_size > header)

    def _wait_for(self, condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"parecord stopped: {self._log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"parecord is not recording after {timeout_s} s: {self._log_tail()}"
                )
            time.sleep(0.005)

    def _stop(self, process: subprocess.Popen[bytes], settle: bool) -> None:
        try:
            if process.poll() is None:
                if settle:
                    self._wait_until_past_the_end(process)
                process.send_signal(signal.SIGINT)  # parecord then finalises the WAV header
                process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        if settle and process.returncode != 0:
            raise RuntimeError(f"parecord exited with {process.returncode}: {self._log_tail()}")

    def _wait_until_past_the_end(self, process: subprocess.Popen[bytes]) -> None:
        """Wait until 0.2 s more has been recorded: everything played before is then in the file
        (the monitor delivers in order). Give up if the file stops growing or after 5 s."""
        wanted = self.path.stat().st_size + int(0.2 * self.rate) * self.channels * 4
        deadline = time.monotonic() + 5.0
        size, since = -1, time.monotonic()
        while time.monotonic() < deadline and process.poll() is None:
            now_size = self.path.stat().st_size
            if now_size >= wanted:
                return
            if now_size != size:
                size, since = now_size, time.monotonic()
            elif time.monotonic() - since > 0.5:
                return
            time.sleep(0.01)

    def _log_tail(self) -> str:
        text = self.log_path.read_bytes().decode(errors="replace") if self.log_path.exists() else ""
        return text.replace("\r", "\n").strip()[-2000:] or "(no output)"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed (call require_audio_server() first)")
    return path


def _streams_into(sink: str) -> list[str]:
    """The streams (sink inputs) playing into `sink`, described for an error message."""

    def table(*args: str) -> list[list[str]]:
        command = [_tool("pactl"), "list", "short", *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=True)
        return [line.split("\t") for line in done.stdout.splitlines()]

    index = next((row[0] for row in table("sinks") if row[1:2] == [sink]), None)
    if index is None:
        raise RuntimeError(f"no sink {sink!r} on the PulseAudio server")
    clients = {row[0]: row[-1] for row in table("clients")}
    return [
        f"sink input {row[0]} from {clients.get(row[2], 'client ' + row[2])}"
        for row in table("sink-inputs")
        if len(row) >= 3 and row[1] == index
    ]


def mono(audio: Floats) -> Floats:
    """Average the channels of (frames, channels) audio; 1-D input is returned as it is."""
    return audio.mean(axis=1) if audio.ndim == 2 else audio


def _correlate(signal_: Floats, template: Floats) -> npt.NDArray[np.float64]:
    """Full cross-correlation: entry i is the dot product at lag i - (len(template) - 1)."""
    size = len(signal_) + len(template) - 1
    n = 1 << max(size - 1, 1).bit_length()
    spectrum = np.fft.rfft(signal_, n) * np.conj(np.fft.rfft(template, n))
    circular = np.fft.irfft(spectrum, n)
    # Lags -(len(template) - 1) .. -1 wrap around to the end of the circular result.
    return np.concatenate([circular[n - len(template) + 1 :], circular[: len(signal_)]])


def _similarity(a: Floats, b: Floats) -> float:
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return max(0.0, float(np.dot(a, b)) / norm) if norm > 0 else 0.0


def align(recorded: Floats, reference: Floats) -> tuple[int, float]:
    """Where `reference` starts inside `recorded`, in frames, and how well they match there.

    Both may be (frames, channels) or mono; they are compared as mono. The offset is negative when
    the recording missed the start of the reference. The score is the normalised correlation
    (0..1) of the overlapping part: about 1 when the recording is the reference, delayed.
    """
    rec, ref = mono(recorded).astype(np.float64), mono(reference).astype(np.float64)
    if len(rec) == 0 or len(ref) == 0:
        return 0, 0.0
    offset = int(np.argmax(_correlate(rec, ref))) - (len(ref) - 1)
    start = max(offset, 0)
    stop = min(len(rec), offset + len(ref))
    return offset, _similarity(rec[start:stop], ref[start - offset : stop - offset])


def find_in(
    recorded_mono: Floats, template: Floats, expected_frame: int, search_frames: int
) -> int:
    """Frame where `template` starts in `recorded_mono`, searched within +-`search_frames` of
    `expected_frame` (e.g. a chime whose position is known from the timeline)."""
    rec, tpl = mono(recorded_mono).astype(np.float64), mono(template).astype(np.float64)
    first = max(expected_frame - search_frames, 0)
    last = min(expected_frame + search_frames, len(rec) - len(tpl))
    if last < first:
        raise ValueError(
            f"no room for a {len(tpl)}-frame template near frame {expected_frame} "
            f"in {len(rec)} frames"
        )
    window = rec[first : last + len(tpl)]
    valid = _correlate(window, tpl)[len(tpl) - 1 : len(tpl) + last - first]
    return first + int(np.argmax(valid))


def onsets(
    audio_mono: Floats, rate: int, threshold_db: float = -40.0, min_gap_s: float = 0.3
) -> list[float]:
    """Times (s) where the level rises from below `threshold_db` dBFS to above it.

    The level is the RMS over 1 ms blocks, so a time is accurate to about 1 ms. A rise less than
    `min_gap_s` after the previous onset is ignored (the tail of the same sound); sound from the
    very first block counts as an onset at 0.
    """
    samples = mono(audio_mono).astype(np.float64)
    block = max(rate // 1000, 1)
    blocks = len(samples) // block
    if blocks == 0:
        return []
    rms = np.sqrt(np.mean(samples[: blocks * block].reshape(blocks, block) ** 2, axis=1))
    loud = rms > 10 ** (threshold_db / 20)
    rises = np.flatnonzero(loud & ~np.concatenate([[False], loud[:-1]]))
    times: list[float] = []
    for index in rises:
        time_s = index * block / rate
        if not times or time_s - times[-1] >= min_gap_s:
            times.append(time_s)
    return times
