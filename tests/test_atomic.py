"""The one writer of every file: whole or not at all, nothing left behind, the project's error."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from loosen.atomic import (
    atomic_file,
    atomic_path,
    write_bytes_atomic,
    write_error,
    write_json_atomic,
    write_text_atomic,
)
from loosen.errors import BadInputError, ExportError, Terminated

SRC = Path(__file__).parent.parent / "src"


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_the_target_appears_only_once_it_is_whole(tmp_path: Path) -> None:
    target = tmp_path / "session.json"
    target.write_bytes(b"the old file")
    with atomic_file(target) as handle:
        handle.write(b"the first half, ")
        handle.flush()
        assert target.read_bytes() == b"the old file"
        handle.write(b"the second half")
    assert target.read_bytes() == b"the first half, the second half"
    assert names(tmp_path) == ["session.json"]


def test_a_writer_killed_outright_leaves_the_old_target_whole(tmp_path: Path) -> None:
    target = tmp_path / "session.json"
    target.write_bytes(b"the old file")
    code = (
        "import sys, time\nfrom pathlib import Path\nfrom loosen.atomic import atomic_file\n"
        "with atomic_file(Path(sys.argv[1])) as handle:\n"
        "    handle.write(b'half of it'); handle.flush(); print('half', flush=True)\n"
        "    time.sleep(60)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    ) as writer:  # fmt: skip
        try:
            assert writer.stdout is not None and writer.stdout.readline() == "half\n"
        finally:
            writer.send_signal(signal.SIGKILL)
    assert target.read_bytes() == b"the old file"  # the temporary file is stale, not published


def write_then_fail(target: Path, way: str, error: BaseException) -> None:
    """Write half of a file to ``target`` the ``way`` a caller does, then raise ``error``."""
    if way == "binary":
        with atomic_file(target) as binary:
            binary.write(b"half")
            raise error
    elif way == "text":
        with atomic_file(target, "w") as text:
            text.write("half")
            raise error
    else:
        with atomic_path(target) as temp:
            temp.write_bytes(b"half")
            raise error


@pytest.mark.parametrize(
    "error", [ValueError("a bug"), OSError(errno.EIO, "I/O error"), KeyboardInterrupt(),
              Terminated(signal.SIGTERM)],
    ids=["an error", "an OSError", "Ctrl+C", "SIGTERM"],
)  # fmt: skip
@pytest.mark.parametrize("way", ["binary", "text", "by name"])
def test_on_any_exception_the_temporary_file_is_gone_and_the_old_target_untouched(
    tmp_path: Path, error: BaseException, way: str
) -> None:
    target = tmp_path / "session.wav"
    target.write_bytes(b"the old file")
    with pytest.raises(type(error)):
        write_then_fail(target, way, error)
    assert names(tmp_path) == ["session.wav"]
    assert target.read_bytes() == b"the old file"


def test_a_failing_rename_is_the_project_error_and_leaves_no_temporary_file(
    tmp_path: Path,
) -> None:
    target = tmp_path / "session.json"
    target.mkdir()
    (target / "inside").write_text("")  # a folder that holds something: no rename over it
    with pytest.raises(ExportError) as raised:
        write_json_atomic(target, {}, what="the timeline")
    assert str(raised.value).startswith(f"{target}: could not write the timeline: ")
    assert names(tmp_path) == ["session.json"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KB file system of its own (tmpfs; needs root), unmounted afterwards."""
    disk = tmp_path / "small-disk"
    disk.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)],
                           capture_output=True, text=True, check=False)  # fmt: skip
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mount.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_full_disk_is_the_project_error_naming_the_file_and_leaves_nothing_behind(
    small_disk: Path,
) -> None:
    target = small_disk / "session.json"
    target.write_text("the old timeline")
    with pytest.raises(ExportError) as raised:
        write_json_atomic(target, {"text": "x" * 200_000}, what="the timeline")
    assert str(raised.value) == f"{target}: could not write the timeline: No space left on device"
    assert names(small_disk) == ["session.json"]
    assert target.read_text() == "the old timeline"


def test_an_encoder_that_fills_the_disk_leaves_nothing_behind(small_disk: Path) -> None:
    import numpy as np
    import soundfile as sf

    target = small_disk / "bell.wav"
    with pytest.raises((OSError, RuntimeError)), atomic_path(target) as temp:
        sf.write(temp, np.zeros((48_000, 2), np.int16), 48_000, format="WAV")  # 192 KB
    assert names(small_disk) == []


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder a normal user (nobody) can reach but not write: pytest's own are root's alone."""
    folder = Path(tempfile.mkdtemp(prefix="loosen-atomic-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def test_a_folder_the_user_cannot_write_is_the_project_error_and_gains_nothing(
    shared_folder: Path,
) -> None:
    (shared_folder / "session.json").write_text("the old timeline")
    code = (
        "import sys\nfrom pathlib import Path\nfrom loosen.atomic import write_json_atomic\n"
        "from loosen.errors import ExportError\n"
        "try:\n    write_json_atomic(Path(sys.argv[1]), {}, what='the timeline')\n"
        "except ExportError as error:\n    print(error)\n"
    )
    command = [sys.executable, "-c", code, str(shared_folder / "session.json")]
    if os.geteuid() == 0:  # root writes anywhere: the write is made as nobody
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("setpriv (util-linux) is not installed to run as a normal user")
        command = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    else:
        shared_folder.chmod(0o555)
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "PYTHONPATH": str(SRC)})  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        f"{shared_folder / 'session.json'}: could not write the timeline: Permission denied\n"
    )
    assert names(shared_folder) == ["session.json"]
    assert (shared_folder / "session.json").read_text() == "the old timeline"


def test_mkstemp_failing_is_the_project_error_not_an_unbound_local_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_descriptors(*args: object, **kwargs: object) -> tuple[int, str]:
        raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))

    monkeypatch.setattr(tempfile, "mkstemp", no_descriptors)
    target = tmp_path / "session.json"
    with pytest.raises(ExportError) as raised:
        write_json_atomic(target, {}, what="the timeline")
    assert str(raised.value) == f"{target}: could not write the timeline: Too many open files"
    assert names(tmp_path) == []


def test_a_missing_folder_is_the_project_error(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "session.cue"
    with pytest.raises(ExportError, match=r"session\.cue: could not write the file: No such file"):
        write_text_atomic(target, "FILE")


def test_the_caller_chooses_the_error_and_the_words(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "evening.toml"
    with pytest.raises(BadInputError) as raised:
        write_bytes_atomic(target, b"", what="the script", error=BadInputError)
    assert str(raised.value) == (f"{target}: could not write the script: No such file or directory")


def test_an_encoders_message_is_one_harmless_line() -> None:
    error = write_error(Path("a.wav"), "the sound", RuntimeError("Error:\n\x1b[2Jbad"))
    assert str(error) == "a.wav: could not write the sound: Error:\\n\\x1b[2Jbad"


@pytest.fixture
def umask_027() -> Iterator[None]:
    previous = os.umask(0o027)
    yield
    os.umask(previous)


@pytest.mark.usefixtures("umask_027")
def test_a_file_gets_the_mode_a_plain_new_file_would_and_a_private_one_stays_the_owners(
    tmp_path: Path,
) -> None:
    plain, private, by_name = tmp_path / "a.cue", tmp_path / "positions.json", tmp_path / "b.wav"
    write_text_atomic(plain, "FILE")
    write_bytes_atomic(private, b"{}", private=True)
    with atomic_path(by_name) as temp:
        temp.write_bytes(b"RIFF")
    assert plain.stat().st_mode & 0o777 == 0o640
    assert private.stat().st_mode & 0o777 == 0o600
    assert by_name.stat().st_mode & 0o777 == 0o640


def test_text_is_utf8_with_unix_line_ends_and_json_as_show_prints_it(tmp_path: Path) -> None:
    text, document = tmp_path / "a.vtt", tmp_path / "a.json"
    write_text_atomic(text, "é\nline\r\n")
    with atomic_file(tmp_path / "b.vtt", "w") as handle:
        handle.write("é\nline\r\n")
    write_json_atomic(document, {"title": "Évening", "steps": [1, 2]})
    assert text.read_bytes() == (tmp_path / "b.vtt").read_bytes() == "é\nline\r\n".encode()
    assert document.read_text(encoding="utf-8") == (
        json.dumps({"title": "Évening", "steps": [1, 2]}, indent=2) + "\n"
    )


def test_a_writer_by_name_writes_the_temporary_file_beside_the_target(tmp_path: Path) -> None:
    import numpy as np
    import soundfile as sf

    target = tmp_path / "bell.flac"
    frames = np.linspace(-0.5, 0.5, 4800, dtype=np.float32)
    with atomic_path(target) as temp:
        assert temp.parent == tmp_path and temp.name.startswith(f".bell.flac.{os.getpid()}.")
        sf.write(temp, frames, 48_000, format="FLAC")
        assert not target.exists()
    read, rate = sf.read(target, dtype="float32")
    assert rate == 48_000 and np.allclose(read, frames, atol=1 / 32768)
    assert names(tmp_path) == ["bell.flac"]


def test_a_relative_target_is_written_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_text_atomic(Path("session.txt"), "0\t1\twelcome\n")
    assert (tmp_path / "session.txt").read_text() == "0\t1\twelcome\n"
    assert names(tmp_path) == ["session.txt"]
