"""Expansion: a script's steps -> a flat list of concrete steps (repeats unrolled, sides copied,
ranges resolved, templates filled). Pure: no I/O, no audio."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from loosen.errors import ScriptError
from loosen.plan.addresses import step_label
from loosen.plan.pace import Pace
from loosen.script.limits import MAX_EXPANDED_STEPS, MAX_TEXT_CHARS, check_session_size
from loosen.script.loading import Pacing, Session
from loosen.script.steps import ScriptStep
from loosen.script.templates import fill_template, template_variables

__all__ = [
    "DEFAULT_TEMPLATES",
    "KIND_WORDS",
    "MAX_EXPANDED_STEPS",
    "BlockRound",
    "Breathe",
    "Hold",
    "Pause",
    "Reps",
    "Say",
    "Step",
    "Switch",
    "TenseRelease",
    "Wait",
    "expand_session",
    "numbered_places",
]

KIND_WORDS = {
    "say": "spoken",
    "pause": "a pause",
    "hold": "a hold",
    "reps": "repetitions",
    "breathe": "breathing",
    "tense_release": "tense and release",
}

DEFAULT_TEMPLATES: dict[str, tuple[str, ...]] = {
    "tense": ("Now tense your {name}. Hold the tension.",),
    "release": ("And release. Let your {name} relax completely.",),
}


@dataclass(frozen=True, kw_only=True)
class Switch:
    """The change of sides that leads into the second copy of a sided step."""

    transition_s: float
    text: str | None = None


@dataclass(frozen=True, kw_only=True)
class Wait:
    """A step that waits for the listener once its instruction is said: `loosen play` pauses
    there until resumed; an export has a fixed pause of ``seconds_s`` instead. ``text``: the
    line the player says when it starts waiting (None: only the pause sound)."""

    seconds_s: float
    text: str | None = None


@dataclass(frozen=True)
class BlockRound:
    """A named repeat block that a step is part of, and which round of it (1-based) this is."""

    name: str
    round: int
    rounds: int

    def __str__(self) -> str:
        return f"{self.name} {self.round}/{self.rounds}"


@dataclass(frozen=True, kw_only=True)
class Step:
    """One concrete step of the expanded session; ``index`` is 1-based.

    ``blocks`` lists the named repeat blocks the step is in, the outermost first.
    """

    index: int
    kind: str
    name: str | None
    side: str | None
    switch: Switch | None = None
    wait: Wait | None = None
    blocks: tuple[BlockRound, ...] = ()
    script_path: tuple[int, ...] = ()  # where its script step stands (`ScriptStep.path`)

    @property
    def address(self) -> str:
        """How a user names this step (`loosen.plan.addresses`): ``hamstring stretch (left)``, or
        its number when it has no name."""
        if self.name is None:
            return str(self.index)
        return f"{self.name} ({self.side})" if self.side else self.name

    @property
    def where(self) -> str:
        """The step in a message, numbered as `loosen show` and `loosen play` number it:
        ``step 5 'hamstring stretch (left)'``."""
        return step_label(self.index, self.name, self.side, KIND_WORDS.get(self.kind, self.kind))


@dataclass(frozen=True, kw_only=True)
class Say(Step):
    text: str


@dataclass(frozen=True, kw_only=True)
class Pause(Step):
    seconds_s: float


@dataclass(frozen=True, kw_only=True)
class Hold(Step):
    text: str
    seconds_s: float
    release_text: str | None = None
    halfway: str | None = None  # "chime", or a line to speak
    countdown: int = 0
    countdown_style: str = "ticks"


@dataclass(frozen=True, kw_only=True)
class Reps(Step):
    text: str
    count: int
    cadence_s: float
    cue: str  # "spoken" or "ticks"
    rep_texts: tuple[str, ...]
    release_text: str | None = None


@dataclass(frozen=True, kw_only=True)
class Breathe(Step):
    text: str | None
    cycles: int
    inhale_s: float
    hold_s: float
    exhale_s: float
    guide: str  # "spoken" or "tones"
    inhale_text: str
    hold_text: str
    exhale_text: str


@dataclass(frozen=True, kw_only=True)
class TenseRelease(Step):
    """``release_s`` runs from the hold-end chime; the release words are said inside it. With
    ``release_grows`` (a paced session) the release lasts at least as long as its words and
    the gap after them: a pace shortens the silence, never the words."""

    text: str
    tense_s: float
    release_text: str
    release_s: float
    release_grows: bool = False


def expand_session(
    session: Session, pacing: Pacing | None = None, pace: Pace | None = None
) -> list[Step]:
    """Return the concrete steps of ``session``, numbered from 1.

    ``pacing`` replaces the script's own pacing (for command-line overrides); ``pace`` scales
    every silence (`loosen.plan.pace.Pace`) before the texts are filled in, so ``{seconds}`` says
    the paced length. A template with several wordings gives them in turn, one per use.

    Raises `ScriptError`, naming the session's file if it has one, for text variables that
    have no value in their step, a line too long once they are filled in, and, before any work,
    when the session passes a limit of `loosen.script.limits` (steps, length).
    """
    pacing = pacing or session.pacing
    pace = pace or Pace()
    try:
        # the loader checked only its own pacing
        check_session_size(session.steps, pacing, silence_factor=pace.factor)
        templates = {**DEFAULT_TEMPLATES, **session.templates}
        context = _Context(pacing, pace, templates)
        return list(context.expand(session.steps, side_pair=None))
    except ScriptError as error:
        if error.path is None and session.path is not None:
            raise error.located(session.path) from None
        raise


def numbered_places(session: Session) -> list[tuple[tuple[int, ...], str | None]]:
    """Where each expanded step of ``session`` comes from: its script step's path and its side,
    in the order `loosen show` numbers them (for settings that name a step by number)."""
    return [(step.script_path, step.side) for step in expand_session(session)]


def _number(seconds: float) -> str:
    return f"{seconds:g}"


def _says_seconds(*texts: str | None) -> bool:
    """Whether any of ``texts`` (templates) speaks the step's ``{seconds}``."""
    return any(text is not None and "seconds" in template_variables(text) for text in texts)


class _Context:
    def __init__(self, pacing: Pacing, pace: Pace, templates: Mapping[str, tuple[str, ...]]):
        self.pacing = pacing
        self.pace = pace
        self.templates = templates
        self.template_uses = dict.fromkeys(templates, 0)
        self.next_index = 1

    def template(self, key: str) -> str:
        """The next wording of template ``key``: its wordings take turns."""
        wordings = self.templates[key]
        used = self.template_uses[key]
        self.template_uses[key] = used + 1
        return wordings[used % len(wordings)]

    def expand(
        self,
        steps: tuple[ScriptStep, ...],
        side_pair: tuple[str, str] | None,
        blocks: tuple[BlockRound, ...] = (),
    ) -> Iterator[Step]:
        for step in steps:
            if step.sides is None:
                yield from self._one(step, side_pair, None, blocks)
                continue
            first, second = step.sides
            yield from self._one(step, (first, second), None, blocks)
            switch_text = None
            if step.switch_text is not None:
                switch_text = self._fill(step, "switch_text", step.switch_text, (second, first))
            transition_s = self.pace.scaled_s(self.pacing.transition_s, "transition")
            switch = Switch(transition_s=transition_s, text=switch_text)
            yield from self._one(step, (second, first), switch, blocks)

    def _one(
        self,
        step: ScriptStep,
        sides: tuple[str, str] | None,
        switch: Switch | None,
        blocks: tuple[BlockRound, ...],
    ) -> Iterator[Step]:
        if step.kind == "repeat":
            times = int(step.values_for(sides[0] if sides else None)["times"])
            for round_number in range(times):
                named = (BlockRound(step.name, round_number + 1, times),) if step.name else ()
                inner = self.expand(step.children, sides, blocks + named)
                if switch is not None and round_number == 0:
                    # the switch leads into the first step of the second side's block
                    first = next(inner)
                    yield _with_switch(first, switch)
                yield from inner
            return
        header: dict[str, Any] = {
            "index": self.next_index,
            "kind": step.kind,
            "name": step.name,
            "side": sides[0] if sides else None,
            "switch": switch,
            "blocks": blocks,
            "script_path": step.path,
        }
        self.next_index += 1
        built = self._build(step, sides, header)
        wait = self._wait(step, sides)
        yield built if wait is None else replace(built, wait=wait)

    def _wait(self, step: ScriptStep, sides: tuple[str, str] | None) -> Wait | None:
        wanted = step.values_for(sides[0] if sides else None).get("wait", False)
        if wanted is False:
            return None
        seconds_s = self.pace.scaled_s(self.pacing.wait_s, "wait")
        text = self._fill(step, "wait", wanted, sides) if isinstance(wanted, str) else None
        return Wait(seconds_s=seconds_s, text=text)

    def _build(
        self, step: ScriptStep, sides: tuple[str, str] | None, header: dict[str, Any]
    ) -> Step:
        v, p, scaled = step.values_for(sides[0] if sides else None), self.pacing, self.pace.scaled_s

        def fill(key: str, text: str, **extra: object) -> str:
            return self._fill(step, key, text, sides, **extra)

        def optional(key: str, **extra: object) -> str | None:
            return fill(key, v[key], **extra) if key in v else None

        if step.kind == "say":
            return Say(**header, text=fill("text", v["text"]))
        if step.kind == "pause":
            return Pause(**header, seconds_s=scaled(v.get("seconds", p.rest_s), "pause"))
        if step.kind == "hold":
            halfway = v.get("halfway")
            spoken_halfway = halfway if halfway != "chime" else None
            announced = _says_seconds(v["text"], v.get("release_text"), spoken_halfway)
            seconds = scaled(v.get("seconds", p.hold_s), "hold", announced=announced)
            if spoken_halfway is not None:
                halfway = fill("halfway", spoken_halfway, seconds=_number(seconds))
            countdown = v.get("countdown", 0)
            if not self.pace.is_identity:  # a shorter hold counts down less
                countdown = min(countdown, max(0, int(seconds) - 1))
            return Hold(
                **header,
                text=fill("text", v["text"], seconds=_number(seconds)),
                seconds_s=seconds,
                release_text=optional("release_text", seconds=_number(seconds)),
                halfway=halfway,
                countdown=countdown,
                countdown_style=v.get("countdown_style", "ticks"),
            )
        if step.kind == "reps":
            count = _resolve_count(v["count"], p.reps)
            rep_text = v.get("rep_text", "{rep}")
            return Reps(
                **header,
                text=fill("text", v["text"], count=count),
                count=count,
                cadence_s=scaled(v.get("cadence", p.cadence_s), "cadence"),
                cue=v.get("cue", "spoken"),
                rep_texts=tuple(
                    fill("rep_text", rep_text, count=count, rep=n) for n in range(1, count + 1)
                ),
                release_text=optional("release_text", count=count),
            )
        if step.kind == "breathe":
            return Breathe(
                **header,
                text=optional("text"),
                cycles=v.get("cycles", 3),
                inhale_s=scaled(v.get("inhale", p.inhale_s), "breath"),
                hold_s=scaled(v.get("hold", p.breath_hold_s), "breath_hold"),
                exhale_s=scaled(v.get("exhale", p.exhale_s), "breath"),
                guide=v.get("guide", "spoken"),
                inhale_text=fill("inhale_text", v.get("inhale_text", "Breathe in.")),
                hold_text=fill("hold_text", v.get("hold_text", "Hold.")),
                exhale_text=fill("exhale_text", v.get("exhale_text", "Breathe out.")),
            )
        tense_text = v["text"] if "text" in v else self.template("tense")
        release_text = v["release_text"] if "release_text" in v else self.template("release")
        tense = scaled(v.get("tense", p.tense_s), "tense", announced=_says_seconds(tense_text))
        return TenseRelease(
            **header,
            text=fill("text", tense_text, seconds=_number(tense)),
            tense_s=tense,
            release_text=fill("release_text", release_text),
            release_s=scaled(v.get("release", p.release_s), "release"),
            release_grows=not self.pace.is_identity,
        )

    def _fill(
        self,
        step: ScriptStep,
        key: str,
        text: str,
        sides: tuple[str, str] | None,
        **extra: object,
    ) -> str:
        values: dict[str, object] = {
            "name": step.name,
            "side": sides[0] if sides else None,
            "other_side": sides[1] if sides else None,
            **extra,
        }
        try:
            line = " ".join(fill_template(text, values).split())
        except ValueError as error:
            raise ScriptError(str(error), where=f"{step.label}, key {key!r}") from None
        if len(line) > MAX_TEXT_CHARS:
            raise ScriptError(
                f"the line is {len(line)} characters once its variables are filled in; "
                f"the limit is {MAX_TEXT_CHARS}",
                where=f"{step.label}, key {key!r}",
            )
        return line


def _with_switch(step: Step, switch: Switch) -> Step:
    return replace(step, switch=switch)


def _resolve_count(count: int | tuple[int, int], pick: str) -> int:
    if isinstance(count, int):
        return count
    low, high = count
    if pick == "low":
        return low
    if pick == "high":
        return high
    return (low + high + 1) // 2
