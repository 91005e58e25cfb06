"""Run one job per item in parallel worker processes, each failure kept to its own item.

Workers are started with the *spawn* method (the speech engine's own worker processes misbehave
after a fork). A job's `LoosenError` becomes its item's exit code and one-line message; the
other items go on. Ctrl+C reaches the workers too (same process group): each stops cleanly,
its atomic export leaving nothing half-written, and the batch ends with `KeyboardInterrupt`.
So does an interruption of this process alone (`kill -INT`, `kill -TERM` of it): it interrupts
its workers in turn. A worker dies with this process if it is killed outright (Linux: the
parent-death signal), so no worker goes on exporting for nobody.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from types import FrameType
from typing import Generic, TypeVar

from loosen.errors import EXIT_INTERRUPTED, LoosenError

__all__ = ["Outcome", "run_jobs"]

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """How one item's job ended: ``exit_code`` 0 (done), 1, 2 or 130, and the error's message
    (or, when it is done, what the job returned: its report)."""

    item: T
    exit_code: int
    message: str = ""


_busy = False  # in a worker: whether a job is running (Ctrl+C stops it) or the worker idles


def _on_interrupt(signum: int, frame: FrameType | None) -> None:
    if _busy:
        raise KeyboardInterrupt
    # idle: the pool is being shut down by the parent, which saw the Ctrl+C too


def _start_worker(parent_pid: int) -> None:
    signal.signal(signal.SIGINT, _on_interrupt)
    signal.signal(signal.SIGTERM, _on_interrupt)
    if hasattr(signal, "pthread_sigmask"):  # held back while the parent started this worker
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        with contextlib.suppress(OSError, AttributeError):
            # killed outright: a job half done leaves its temporary file, which the next
            # export to that folder sweeps away; its speech workers die with it in turn
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent_pid:  # it died before the signal was asked for
        os._exit(0)


def _run_one(job: Callable[[T], str | None], item: T) -> tuple[int, str]:
    """In the worker: run ``job(item)``; the outcome as plain values, always picklable."""
    global _busy
    _busy = True
    try:
        report = job(item)
    except LoosenError as error:
        return error.exit_code, str(error)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED, "interrupted"
    finally:
        _busy = False
    return 0, report or ""


@contextlib.contextmanager
def _ctrl_c_held_while_workers_start() -> Iterator[None]:
    """Hold Ctrl+C back while the pool starts its workers (each `submit` spawns one), and raise
    it once they are started. A Ctrl+C in the middle of a spawn would leave a worker reading its
    start-up data from a pipe that is never written (an ``EOFError`` traceback); and a spawned
    process inherits the signal mask, so a worker still importing, before `_start_worker` sets
    its handler and unblocks the signal, is not stopped with a ``KeyboardInterrupt`` traceback."""
    on_main_thread = threading.current_thread() is threading.main_thread()
    if not hasattr(signal, "pthread_sigmask") or not on_main_thread:  # Windows: no masks
        yield
        return
    came: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: came.append(signum))
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)
    if came:
        raise KeyboardInterrupt


def _interrupt_workers(pool: ProcessPoolExecutor) -> None:
    """Interrupt the jobs running in ``pool``'s workers: a Ctrl+C typed at the terminal has
    reached them already, but this process may have been interrupted alone."""
    processes = getattr(pool, "_processes", None) or {}  # the executor's own workers
    for process in list(processes.values()):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signal.SIGINT)


def run_jobs(
    job: Callable[[T], str | None],
    items: Sequence[T],
    *,
    workers: int,
    on_done: Callable[[Outcome[T]], None] | None = None,
) -> list[Outcome[T]]:
    """Run ``job(item)`` for every item, at most ``workers`` at a time; outcomes in item order.

    ``job`` must be a module-level function and the items picklable; it may return a report
    (text), kept as its outcome's ``message``. ``on_done`` is called in this process as each
    item ends. With one worker the jobs run here, one after another.

    Raises
    ------
    KeyboardInterrupt
        On Ctrl+C, once the workers have stopped.
    """
    if workers <= 1 or len(items) <= 1:
        outcomes = []
        for item in items:
            outcome = Outcome(item, *_run_one(job, item))
            if outcome.exit_code == EXIT_INTERRUPTED:
                raise KeyboardInterrupt
            outcomes.append(outcome)
            if on_done is not None:
                on_done(outcome)
        return outcomes
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(items)), mp_context=context, initializer=_start_worker,
        initargs=(os.getpid(),),
    )  # fmt: skip
    futures: list[Future[tuple[int, str]]] = []
    try:
        with _ctrl_c_held_while_workers_start():
            futures = [pool.submit(_run_one, job, item) for item in items]
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when="FIRST_COMPLETED")
            for future in done:
                outcome = Outcome(items[futures.index(future)], *future.result())
                if outcome.exit_code == EXIT_INTERRUPTED:
                    raise KeyboardInterrupt
                if on_done is not None:
                    on_done(outcome)
    except BaseException:
        _interrupt_workers(pool)
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [Outcome(item, *future.result()) for item, future in zip(items, futures, strict=True)]
