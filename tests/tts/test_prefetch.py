"""`Prefetcher` makes lines in order on its helper thread, hands each over once, and closes."""

from __future__ import annotations

import threading

import numpy as np

from loosen.tts.conditioning import Audio
from loosen.tts.prefetch import Prefetcher


class Maker:
    """Makes a line of four samples, the number of lines made so far, on whatever thread; holds
    the line of ``held`` until its gate opens, fails on ``Bad.``."""

    def __init__(self, held: str) -> None:
        self.held, self.gate, self.reached = held, threading.Event(), threading.Event()
        self.made: list[tuple[str, str]] = []  # (text, thread's name)

    def __call__(self, text: str) -> Audio:
        self.made.append((text, threading.current_thread().name))
        if text == self.held:
            self.reached.set()
            assert self.gate.wait(10)
        if text == "Bad.":
            raise ValueError(text)
        return np.full(4, len(self.made), np.float32)


def prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "loosen-prefetch"]


def test_lines_are_made_once_in_order_on_the_helper_thread_and_each_is_taken_once() -> None:
    make = Maker(held="Last.")
    prefetcher = Prefetcher(make, threading.Lock(), lambda text: text == "Kept.")
    for text in ["First.", "Kept.", "First.", "Bad.", "Second.", "Last."]:
        prefetcher.prefetch(text)
    assert make.reached.wait(5)  # on the last line: the ones before it are done
    assert prefetcher.waiting("First.") and prefetcher.waiting("Second.")
    assert not prefetcher.waiting("Kept.") and not prefetcher.waiting("Bad.")
    first = prefetcher.take("First.")
    assert first is not None and first.dtype == np.float32 and first[0] == 1
    assert prefetcher.take("First.") is None and not prefetcher.waiting("First.")
    make.gate.set()
    prefetcher.close()
    assert make.made == [
        (text, "loosen-prefetch") for text in ["First.", "Bad.", "Second.", "Last."]
    ]


def test_closing_joins_the_thread_after_its_line_and_nothing_queued_is_made() -> None:
    before = prefetch_threads()
    make = Maker(held="First.")
    prefetcher = Prefetcher(make, threading.Lock(), lambda text: False)
    prefetcher.prefetch("First.")
    prefetcher.prefetch("Second.")  # queued behind it
    assert make.reached.wait(5)
    [thread] = [t for t in prefetch_threads() if t not in before]
    prefetcher.close(timeout_s=0.01)
    assert thread.is_alive()  # still on its line
    make.gate.set()
    thread.join(5)
    assert not thread.is_alive()
    prefetcher.close()  # again: nothing to do
    prefetcher.prefetch("Third.")  # closed: nothing made, no thread
    assert [text for text, _ in make.made] == ["First."]
    assert not prefetcher.waiting("Second.") and prefetch_threads() == before
