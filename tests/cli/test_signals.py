"""Signals and killed processes, as they really arrive: a command stopped by SIGTERM says so in
one line and leaves nothing behind; a killed one leaves no worker running and nothing printed."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent.parent
TINY = HERE / "data" / "tiny.toml"


def start(*args: str | Path, cache: Path, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "loosen", *map(str, args)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "LOOSEN_CACHE_DIR": str(cache)}, cwd=cwd,
    )  # fmt: skip


def descendants(pid: int) -> set[int]:
    """The processes under ``pid`` (Linux: read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            living.add(pid)
    return living


def wait_for(condition: object, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def speaking(process: subprocess.Popen[str]) -> set[int]:
    """Wait until ``process`` has started its speech workers; return the processes under it."""
    found: set[int] = set()

    def started() -> bool:
        nonlocal found
        found = descendants(process.pid)
        return bool(found)

    wait_for(started)
    return found


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def test_sigterm_stops_an_export_in_one_line_with_143_leaving_nothing(tmp_path: Path) -> None:
    export = start("export", "back-loosening", "-o", tmp_path / "out.wav",
                   cache=tmp_path / "cache", cwd=tmp_path)  # fmt: skip
    workers = speaking(export)
    export.send_signal(signal.SIGTERM)
    _, err = export.communicate(timeout=30)
    assert export.returncode == 143
    assert err.strip().splitlines() == ["Terminated."]
    assert [p.name for p in tmp_path.iterdir() if p.name != "cache"] == []  # no file nor part
    wait_for(lambda: not alive(workers))


def test_an_export_killed_outright_leaves_no_worker_and_nothing_printed(tmp_path: Path) -> None:
    export = start("export", "back-loosening", "-o", tmp_path / "out.wav",
                   cache=tmp_path / "cache", cwd=tmp_path)  # fmt: skip
    workers = speaking(export)
    export.kill()
    _, err = export.communicate(timeout=30)
    wait_for(lambda: not alive(workers))  # they die with it: no speaking for nobody
    assert err == ""  # no BrokenPipeError from an orphaned worker
    leftovers = list(Path(os.environ.get("TMPDIR", "/tmp")).glob("loosen-tts-*"))
    assert not [p for p in leftovers if any(str(w) in p.name for w in workers)]


def test_a_batch_killed_outright_takes_its_workers_with_it(tmp_path: Path) -> None:
    batch = start("export", "back-loosening", "pmr-16", "-o", tmp_path / "tracks", "-j", "2",
                  cache=tmp_path / "cache", cwd=tmp_path)  # fmt: skip
    wait_for(lambda: len(descendants(batch.pid)) >= 4)  # two pool workers, their speech workers
    everyone = descendants(batch.pid)
    batch.kill()
    batch.communicate(timeout=30)
    wait_for(lambda: not alive(everyone), timeout_s=15)


def test_interrupting_a_batch_alone_stops_its_workers_at_once(tmp_path: Path) -> None:
    batch = start("export", "back-loosening", "pmr-16", "-o", tmp_path / "tracks", "-j", "2",
                  cache=tmp_path / "cache", cwd=tmp_path)  # fmt: skip
    wait_for(lambda: len(descendants(batch.pid)) >= 4)
    everyone = descendants(batch.pid)
    batch.send_signal(signal.SIGINT)  # this process only, as `kill -INT` sends it
    _, err = batch.communicate(timeout=10)  # not the minutes the exports would take
    assert batch.returncode == 130
    assert "Interrupted." in err and "Traceback" not in err
    wait_for(lambda: not alive(everyone), timeout_s=5)
    assert not list((tmp_path / "tracks").glob("*.wav"))


@pytest.mark.parametrize("to", ["the batch alone", "the terminal's process group"])
def test_ctrl_c_while_a_batchs_workers_still_start_prints_no_traceback(
    tmp_path: Path, to: str
) -> None:
    batch = subprocess.Popen(
        [sys.executable, "-m", "loosen", "export", "back-loosening", "pmr-16",
         "-o", str(tmp_path / "tracks"), "-j", "2"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "LOOSEN_CACHE_DIR": str(tmp_path / "cache")}, cwd=tmp_path,
        start_new_session=True,  # a process group of its own, as a terminal gives a command
    )  # fmt: skip
    wait_for(lambda: len(descendants(batch.pid)) >= 1, timeout_s=60)  # a worker is importing
    if to == "the batch alone":
        batch.send_signal(signal.SIGINT)
    else:
        os.killpg(batch.pid, signal.SIGINT)
    _, err = batch.communicate(timeout=30)
    assert batch.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert err.strip().splitlines()[-1] == "Interrupted."
