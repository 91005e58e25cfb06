"""Running a case in a child process held to a memory and a processor-time limit, so that a
regression to a minute of work or gigabytes of memory fails the test at once instead of
eating the machine (the kernel stops the child: RLIMIT_AS, RLIMIT_CPU).

Processor time, not wall time, is bounded: a busy machine makes a run slower but not costlier.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
SRC = HERE.parent / "src"


@dataclass(frozen=True)
class Outcome:
    """How a bounded run ended: its exit code (negative: the signal that ended it) and output."""

    returncode: int
    stdout: str
    stderr: str
    memory_mb: int
    cpu_s: float

    def explained(self) -> str:
        """What went wrong, for an assertion's message."""
        if self.returncode == -signal.SIGXCPU:
            return f"stopped after {self.cpu_s:g} s of processor time (the limit)"
        if "MemoryError" in self.stderr or "Cannot allocate" in self.stderr:
            return f"ran out of its {self.memory_mb} MB of memory: {self.stderr[-300:]}"
        return f"exit {self.returncode}: {self.stderr[-600:]}"


def run_bounded(
    args: Sequence[str],
    *,
    memory_mb: int,
    cpu_s: float,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    module: str = "loosen",
    hang_s: float = 600,
) -> Outcome:
    """Run ``python -m loosen ARGS`` (or ``python -c CODE`` with ``module=""`` and ``args =
    [CODE]``) with at most ``memory_mb`` MB of address space and ``cpu_s`` seconds of processor
    time; stdin is empty. The tests' package is importable (``from tests.x import y``).
    ``hang_s`` is not a bound of speed: it ends a child blocked without using the processor
    (reading a FIFO, say), which the processor-time limit never would."""

    def limited() -> None:  # in the child, before Python starts
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
        whole_s = max(1, round(cpu_s))
        resource.setrlimit(resource.RLIMIT_CPU, (whole_s, whole_s + 1))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    environment = {
        **os.environ,
        **(env or {}),
        "PYTHONPATH": os.pathsep.join(
            [str(SRC), str(HERE.parent), os.environ.get("PYTHONPATH", "")]
        ),
        # one BLAS thread and two malloc arenas: each more reserves address space it never uses
        "OPENBLAS_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",
    }
    command = [sys.executable, "-m", module, *args] if module else [sys.executable, "-c", *args]
    done = subprocess.run(
        command,
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        preexec_fn=limited,
        timeout=hang_s,  # never reached unless the child hangs: the limits end a busy one
        check=False,
    )
    return Outcome(done.returncode, done.stdout, done.stderr, memory_mb, cpu_s)
