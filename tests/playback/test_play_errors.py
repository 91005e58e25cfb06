"""`loosen play` when the sound system is missing or goes away: one line, exit 1, position kept."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).parent.parent
TINY = HERE / "data" / "tiny.toml"

NO_PORTAUDIO = """
import sys
class NoPortAudio:
    def find_spec(self, name, path=None, target=None):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
sys.meta_path.insert(0, NoPortAudio())
from loosen.cli import main
sys.argv = ["loosen", *sys.argv[1:]]
main()
"""


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_without_portaudio_play_says_what_to_install_and_export_still_works(tmp_path: Path) -> None:
    played = run("-c", NO_PORTAUDIO, "play", str(TINY))
    assert played.returncode == 1
    assert played.stderr.strip().splitlines() == [
        "Error: cannot play: PortAudio library not found; install PortAudio (Debian/Ubuntu: "
        "libportaudio2), or write a file with `loosen export`"
    ]
    exported = run("-c", NO_PORTAUDIO, "export", str(TINY), "-o", str(tmp_path / "t.wav"))
    assert exported.returncode == 0, exported.stderr
    checked = run("-c", NO_PORTAUDIO, "check", str(TINY))
    assert checked.returncode == 0


NEVER_LOADS_PORTAUDIO = """
import sys
from loosen.cli import main
sys.argv = ["loosen", *sys.argv[1:]]
try:
    main()
finally:
    assert "sounddevice" not in sys.modules, "PortAudio was loaded"
"""


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--from", "dance"], "Error: --from dance: no step of that name; steps: welcome, reach"),
        (["--from", "99"], "Error: --from 99: the session has steps 1 to 7"),
        (["--start", "9:00"], "Error: --start 9:00: past the end of the session (0:52)"),
        (["--set", "reach.hold=abc"], "Error: --set reach.hold=abc: expected a duration"),
        (["--voice-db", "99"], "Error: --voice-db 99.0: must be from -60 to +12 dB"),
        (["--wait-reminder", "soon"], "Error: --wait-reminder soon: "),
        (["--wait-reminder", "0.5s"], "Error: --wait-reminder 0.5s: must be at least 1 second"),
    ],
)
def test_a_bad_option_is_refused_in_one_line_before_portaudio_is_loaded(
    tmp_path: Path, option: list[str], message: str
) -> None:
    for _ in range(3):  # a crash on the way out showed in 4 runs of 10
        played = run(
            "-c", NEVER_LOADS_PORTAUDIO, "play", str(TINY), *option,
            env={"LOOSEN_STATE_DIR": str(tmp_path)},
        )  # fmt: skip
        assert played.returncode == 2, played.stderr
        (line,) = played.stderr.strip().splitlines()
        assert line.startswith(message), line
        assert str(TINY) not in line  # an option's fault, not the script's


def no_sound_card() -> bool:
    cards = Path("/proc/asound/cards")
    return not cards.exists() or "no soundcards" in cards.read_text()


@pytest.mark.skipif(not no_sound_card(), reason="this machine has a sound card: it would play")
def test_without_an_output_device_play_suggests_export(tmp_path: Path) -> None:
    played = run(
        "-m", "loosen", "play", str(TINY),
        env={"PULSE_SERVER": "unix:/nonexistent", "LOOSEN_STATE_DIR": str(tmp_path)},
    )  # fmt: skip
    assert played.returncode == 1
    lines = played.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "loosen export" in lines[0]


@pytest.fixture
def private_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A PulseAudio server of this test's own, with a null sink, that the test may kill."""
    pulseaudio = shutil.which("pulseaudio")
    if pulseaudio is None:
        if os.environ.get("LOOSEN_REQUIRE_AUDIO"):
            pytest.fail("pulseaudio is required here (LOOSEN_REQUIRE_AUDIO is set)")
        pytest.skip("pulseaudio is not installed")
    runtime = tmp_path / "pulse"
    runtime.mkdir()
    socket = runtime / "native"
    server = subprocess.Popen(
        [pulseaudio, "--daemonize=no", "-n", "--exit-idle-time=-1",
         "--load=module-null-sink sink_name=private",
         f"--load=module-native-protocol-unix socket={socket}"],
        env={**os.environ, "PULSE_RUNTIME_PATH": str(runtime), "XDG_RUNTIME_DIR": str(runtime)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not socket.exists():
        assert time.monotonic() < deadline, "the private PulseAudio server did not start"
        time.sleep(0.05)
    yield server, f"unix:{socket}"
    if server.poll() is None:
        server.kill()
    server.wait()


def wait_until_heard(address: str, player: subprocess.Popen[str], *, for_s: float = 0.0) -> None:
    """Wait until the first sound of ``player`` reaches the null sink of the server at
    ``address`` (a loaded machine may take many seconds to start), then ``for_s`` seconds more
    of it: a recorder on the sink's monitor hears it."""
    parec = shutil.which("parec")
    assert parec is not None, "parec is needed to hear the player"
    rate_hz = 8000
    recorder = subprocess.Popen(
        [parec, "--server", address, "-d", "private.monitor", "--format=float32le",
         "--channels=1", f"--rate={rate_hz}", "--latency-msec=20"],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert recorder.stdout is not None
        heard_frames = 0
        while heard_frames < for_s * rate_hz or heard_frames == 0:
            chunk = recorder.stdout.read(4 * rate_hz // 20)
            assert chunk, "the recorder stopped"
            assert player.poll() is None, player.communicate()
            samples = np.frombuffer(chunk, np.float32)
            if heard_frames or np.abs(samples).max() > 1e-4:
                heard_frames += len(samples)
    finally:
        recorder.kill()
        recorder.wait()
        if recorder.stdout is not None:
            recorder.stdout.close()


def test_losing_the_audio_server_mid_session_stops_cleanly_and_keeps_the_position(
    tmp_path: Path, private_server: tuple[subprocess.Popen[bytes], str]
) -> None:
    server, address = private_server
    state = tmp_path / "state"
    player = subprocess.Popen(
        [sys.executable, "-m", "loosen", "play", str(TINY), "--quiet"],
        env={**os.environ, "PULSE_SERVER": address, "LOOSEN_STATE_DIR": str(state)},
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_until_heard(address, player, for_s=1.5)
    assert player.poll() is None, player.communicate()
    server.send_signal(signal.SIGKILL)
    _, err = player.communicate(timeout=30)
    assert player.returncode == 1
    (line,) = err.strip().splitlines()  # one line: what went wrong, and how to go on
    assert line.startswith("Error: the audio output stopped (was the device removed?). Stopped at")
    assert line.endswith(f"To go on from there: loosen play {TINY} --resume")
    saved = json.loads((state / "positions.json").read_text())
    (position,) = saved.values()
    assert position["step"] >= 1
    assert position["time_s"] > 1.0


def test_ctrl_c_while_the_audio_server_hangs_still_stops_at_once(
    tmp_path: Path, private_server: tuple[subprocess.Popen[bytes], str]
) -> None:
    server, address = private_server
    state = tmp_path / "state"
    player = subprocess.Popen(
        [sys.executable, "-m", "loosen", "play", str(TINY), "--quiet"],
        env={**os.environ, "PULSE_SERVER": address, "LOOSEN_STATE_DIR": str(state)},
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    positions = state / "positions.json"
    try:
        wait_until_heard(address, player)
        assert player.poll() is None, player.communicate()
        server.send_signal(signal.SIGSTOP)  # the server hangs: PortAudio waits on it
        player.send_signal(signal.SIGINT)
        _, err = player.communicate(timeout=10)  # it used to wait on the server for over 30 s
    finally:
        server.send_signal(signal.SIGCONT)
        if player.poll() is None:
            player.kill()
    assert player.returncode == 130
    assert err.strip().splitlines()[-1] == "Interrupted."
    assert positions.is_file()
