"""The built wheel, installed in a fresh virtual environment, exports a bundled session."""

import subprocess
import sys
import venv
from pathlib import Path

import pytest
import soundfile as sf

ROOT = Path(__file__).parent.parent


@pytest.mark.slow
def test_the_installed_wheel_ships_its_sessions_and_sounds(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
    )
    (wheel,) = wheels.glob("loosen-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", str(wheel)], check=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    result = subprocess.run(
        [env_dir / "bin" / "loosen", "export", "back-loosening"],
        cwd=work,
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "LOOSEN_CACHE_DIR": str(tmp_path / "c"),
        },
    )
    assert result.returncode == 0, result.stderr
    info = sf.info(work / "back-loosening.wav")
    assert info.duration > 10 * 60
    assert result.stdout == ""  # nothing from the speech library leaks out
