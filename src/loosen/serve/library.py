"""What `loosen serve` offers, through the library's front door: the sessions it was given (or
the whole library), read afresh on every request so that a new or edited script appears at once;
their summaries, covers and choices (paces and voices), kept in memory by the script's digest;
and what a session's player page needs of a rendering (its steps, with their times and words).

Only the sessions it was given are served: a name that is not one of them is unknown, whatever
files lie beside them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from loosen.errors import BadInputError, LoosenError
from loosen.pipeline import (
    SessionEntry,
    SessionSummary,
    describe_session,
    find_sessions,
    pace_presets,
    session_voices,
)
from loosen.serve.renders import Ready, Renders, Variant

__all__ = ["Item", "Library", "UnknownChoiceError"]

MIN_PACE, MAX_PACE = 0.25, 4.0  # as `--pace` takes a factor


class UnknownChoiceError(BadInputError):
    """A pace or voice that the player does not offer."""


@dataclass(frozen=True)
class Item:
    """A served session and its summary (the length exact once rendered at the script's pace)."""

    entry: SessionEntry
    summary: SessionSummary


class Library:
    """The sessions named by ``scripts`` (or, with none, the library's), spoken by ``engine``.

    ``warn`` hears, once per script version, why a script is left out of the list (it cannot
    be read or is not a valid session: the other sessions go on being served).
    """

    title = "loosen sessions"
    description = "Guided relaxation and stretch sessions, rendered on this computer by loosen."

    def __init__(
        self,
        scripts: Sequence[str],
        renders: Renders,
        *,
        engine: str | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self._scripts = tuple(scripts)
        self._renders = renders
        self._engine = engine
        self._warn = warn
        self._lock = threading.Lock()
        self._summaries: dict[str, SessionSummary | None] = {}
        self._covers: dict[str, bytes] = {}
        self._voices: list[tuple[str, str]] | None = None
        self._durations_s: dict[str, float] = {}  # a rendering's length, by its key

    def check(self) -> list[Item]:
        """The items as they are now; raises the first script's `LoosenError` if none of them
        can be served (a front end refuses to start with nothing to serve)."""
        entries = find_sessions(self._scripts)
        failures: list[tuple[SessionEntry, LoosenError]] = []
        for entry in entries:
            summary: SessionSummary | None = None
            try:
                summary = describe_session(entry.path, self._engine)
            except LoosenError as failure:
                failures.append((entry, failure))
            with self._lock:
                self._summaries[entry.digest] = summary
        if failures and len(failures) == len(entries):
            raise failures[0][1]
        if not entries:
            raise BadInputError("there is no session to serve")
        for entry, error in failures:
            self._left_out(entry, error)
        return self.items(entries)

    def items(self, entries: Sequence[SessionEntry] | None = None) -> list[Item]:
        """Every session that can be served, in order, with its summary."""
        listed = []
        for entry in find_sessions(self._scripts) if entries is None else entries:
            summary = self._summary(entry)
            if summary is not None:
                listed.append(Item(entry, summary))
        return listed

    def entry(self, name: str) -> SessionEntry | None:
        """The served session called ``name``, or None."""
        for item in self.items():
            if item.entry.name == name:
                return item.entry
        return None

    @property
    def language(self) -> str:
        """The feed's language: the first session's, else English."""
        for item in self.items():
            if item.summary.language:
                return item.summary.language
        return "en"

    def paces(self) -> list[tuple[str, str]]:
        """The pacing presets offered, as ``(name, description)``."""
        return pace_presets()

    def voices(self) -> list[tuple[str, str]]:
        """The engine's voices, as ``(id, name)`` (asked of the engine once)."""
        with self._lock:
            if self._voices is None:
                self._voices = session_voices(self._engine)
            return self._voices

    def variant(self, pace: str | None, voice: str | None) -> Variant:
        """The rendering asked for by a page: a preset's name or a factor, a voice offered."""
        pace = (pace or "").strip().lower() or None
        voice = (voice or "").strip() or None
        if pace is not None and pace not in dict(self.paces()):
            try:
                factor = float(pace)
            except ValueError:
                raise UnknownChoiceError(f"no pace called {pace!r}") from None
            if not MIN_PACE <= factor <= MAX_PACE:
                raise UnknownChoiceError(f"pace {pace}: from {MIN_PACE} to {MAX_PACE}")
            pace = f"{factor:g}"
        if pace in ("standard", "1"):
            pace = None  # the script as written: the same rendering as no choice
        if voice is not None and voice not in dict(self.voices()):
            raise UnknownChoiceError(f"no voice called {voice!r}")
        return Variant(pace, voice)

    def player_document(self, entry: SessionEntry, ready: Ready) -> dict[str, object]:
        """What the player page shows of a rendering: its title, length and steps (chapters),
        each with its start and end in seconds and the lines spoken in it."""
        timeline = ready.timeline_document()
        chapters = json.loads(ready.chapters.read_text(encoding="utf-8"))["chapters"]
        events = timeline.get("events")
        spoken = [
            (float(e["start_s"]), str(e["text"]))
            for e in (events if isinstance(events, list) else [])
            if e["kind"] == "speech"
        ]
        steps = []
        for chapter in chapters:
            start_s, end_s = float(chapter["startTime"]), float(chapter["endTime"])
            lines = [text for at_s, text in spoken if start_s - 0.0005 <= at_s < end_s - 0.0005]
            steps.append({"title": chapter["title"], "start_s": start_s, "end_s": end_s,
                          "lines": lines})  # fmt: skip
        summary = self._summary(entry)
        return {
            "title": str(timeline.get("title", entry.name)),
            "description": summary.description if summary else "",
            "duration_s": _duration_s(timeline),
            "steps": steps,
        }

    def cover(self, name: str | None) -> bytes | None:
        """The JPEG cover of the session ``name`` (None: the feed's own), or None if unknown."""
        from loosen.pipeline import session_cover, title_cover

        if name is None:
            key = "\0feed"
            with self._lock:
                if key not in self._covers:
                    self._covers[key] = title_cover(self.title, "guided relaxation")
                return self._covers[key]
        entry = self.entry(name)
        if entry is None:
            return None
        with self._lock:
            if entry.digest not in self._covers:
                self._covers[entry.digest] = session_cover(entry.path)
            return self._covers[entry.digest]

    def _left_out(self, entry: SessionEntry, error: LoosenError) -> None:
        if self._warn is not None:
            message = str(error)
            named = message if str(entry.path) in message else f"{entry.path}: {message}"
            self._warn(f"left out {entry.name!r}: {named}")

    def _summary(self, entry: SessionEntry) -> SessionSummary | None:
        with self._lock:
            known = entry.digest in self._summaries
            summary = self._summaries.get(entry.digest)
        if not known:
            try:
                summary = describe_session(entry.path, self._engine)
            except LoosenError as error:
                self._left_out(entry, error)
                summary = None
            with self._lock:
                self._summaries[entry.digest] = summary
        if summary is None:
            return None
        ready = self._renders.ready(self._renders.key(entry, Variant()))
        if ready is not None:  # rendered: its length, measured
            duration_s = self._durations_s.get(ready.key)
            if duration_s is None:
                duration_s = _duration_s(ready.timeline_document())
                with self._lock:
                    self._durations_s[ready.key] = duration_s
            summary = SessionSummary(
                summary.title, summary.description, summary.language, duration_s, True
            )
        return summary


def _duration_s(timeline: dict[str, object]) -> float:
    """A timeline document's length in seconds."""
    return float(str(timeline["duration_s"]))
