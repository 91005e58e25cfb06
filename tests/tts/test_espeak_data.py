"""espeak-ng's data damaged or missing: one line saying so (exit 1), nothing of espeak-ng's own
output on the terminal, and no list of no voices."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
TINY = HERE.parent / "data" / "tiny.toml"


@pytest.fixture
def loader_copy(tmp_path: Path) -> Path:
    """A copy of the espeakng-loader package (library and data) that tests may damage; put
    its folder first on PYTHONPATH and loosen uses it."""
    espeakng_loader = pytest.importorskip("espeakng_loader")
    source = Path(espeakng_loader.__file__).parent
    shutil.copytree(source, tmp_path / "site" / "espeakng_loader")
    return tmp_path / "site"


def loosen(site: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loosen", *args], capture_output=True, text=True, timeout=120,
        cwd=tmp_path, stdin=subprocess.DEVNULL,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(site),
             "LOOSEN_CACHE_DIR": str(tmp_path / "cache")},
    )  # fmt: skip


def test_truncated_espeak_data_is_one_line_and_exit_1(loader_copy: Path, tmp_path: Path) -> None:
    data = loader_copy / "espeakng_loader" / "espeak-ng-data"
    (data / "phondata").write_bytes((data / "phondata").read_bytes()[:1000])
    done = loosen(loader_copy, tmp_path, "export", str(TINY), "-o", "t.wav")
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("Error: pyttsx3 could not start: espeak-ng cannot speak with its data")
    assert line.endswith("reinstall espeakng-loader")
    assert done.stdout == ""
    assert not (tmp_path / "t.wav").exists()


def test_espeak_data_without_voices_is_an_error_not_an_empty_list(
    loader_copy: Path, tmp_path: Path
) -> None:
    shutil.rmtree(loader_copy / "espeakng_loader" / "espeak-ng-data" / "lang")
    done = loosen(loader_copy, tmp_path, "voices")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"Error: espeak-ng's data at {loader_copy}/espeakng_loader/espeak-ng-data holds no "
        "voices: it is damaged or incomplete; reinstall espeakng-loader"
    ]
