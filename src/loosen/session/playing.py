"""Playing a session live: where it starts (a step, a time, the place saved last), the player
itself (`loosen.playback.player`), and the place kept for next time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from loosen.errors import BadInputError, BadValueError
from loosen.session.opening import open_rendering
from loosen.session.options import QUIET, Listener, SessionOptions

if TYPE_CHECKING:
    from loosen.media import MediaControlsOpening
    from loosen.plan.expand import Step
    from loosen.playback.keys import KeyReader
    from loosen.playback.player import Console, PlayResult
    from loosen.render.rendering import Rendering

__all__ = ["PlayOptions", "PlayOutcome", "play_session", "where_to_start"]


@dataclass(frozen=True)
class PlayOptions:
    """Where and how a session plays. At most one of ``from_step`` (a step's number, name,
    unique start of a name, ``"name (side)"`` or a repeat block's name), ``start`` (a time in
    seconds, or as written: ``"5:00"``) and ``resume`` (the place saved when it last stopped).
    ``device``: an output device's index or part of its name (None: the default);
    ``latency_s``: the output latency in seconds (None: 0.1). ``media_keys``: answer the
    desktop's media controls (headset buttons, media keys, the lock screen: `loosen.media`).
    ``announce``: answer each control by ear (a sound of its own, the step's name).
    ``wait_reminder_s``: while a step waits for the listener (``wait`` in the script), a
    reminder sound this often, in seconds (None: none)."""

    from_step: str | None = None
    start: str | float | None = None
    resume: bool = False
    device: str | None = None
    latency_s: float | None = None
    media_keys: bool = True
    announce: bool = True
    wait_reminder_s: float | None = 30.0  # as `loosen.playback.waits.WAIT_REMINDER_S`


@dataclass(frozen=True)
class PlayOutcome:
    """How a playback ended (`loosen.playback.player.PlayResult`: the reason, the frame, the
    step, any error or interruption), with what a front end needs to say so: the session's
    length in seconds, its steps, and its sample rate (Hz)."""

    result: PlayResult
    duration_s: float
    steps: tuple[Step, ...]
    sample_rate: int

    @property
    def stopped_step(self) -> Step | None:
        """The step it stopped in (None: it finished, or stopped before the first step)."""
        if self.result.reason == "end" or self.result.step is None:
            return None
        return self.steps[self.result.step.index - 1]

    @property
    def stopped_at_s(self) -> float:
        """Where it stopped, in seconds from the start of the session."""
        return self.result.frame / self.sample_rate


def check_play_options(play: PlayOptions) -> float | None:
    """Refuse play options no session could play with, before any work or any audio device;
    the start time in seconds (None: not asked for)."""
    asked = sum(x is not None for x in (play.from_step, play.start)) + play.resume
    if asked > 1:
        raise BadInputError("give one of a step to start from, a time to start at, or resume")
    if play.latency_s is not None and not 0.001 <= play.latency_s <= 2.0:
        raise BadValueError("latency", f"{play.latency_s:g}", "must be from 0.001 to 2 seconds")
    if play.start is None or not isinstance(play.start, str):
        return None if play.start is None else float(play.start)
    from loosen.script.durations import parse_clock_s

    try:
        return parse_clock_s(play.start)
    except ValueError as error:
        raise BadValueError("start", play.start, str(error)) from None


def play_session(
    script: str | Path,
    options: SessionOptions | None = None,
    play: PlayOptions | None = None,
    *,
    console: Console | None = None,
    keys: KeyReader | None = None,
    listener: Listener = QUIET,
    on_first_block: Callable[[float], None] | None = None,
) -> PlayOutcome:
    """Play ``script`` (a file, or a bundled session's name) on the audio output, its steps laid
    out as they come, until it ends or the listener quits; keep the place where it stopped for
    ``resume`` (and forget it once it has played to the end).

    ``console`` shows the status line and ``keys`` the listener's key presses (None: neither).
    ``listener.notice`` hears where it starts when that is worth saying (resuming, or why it
    cannot). ``on_first_block`` hears how long (seconds) it took until the first block went
    to the device. Every option is checked before anything touches the audio device.
    """
    from loosen.playback.devices import native_stderr_silenced
    from loosen.playback.player import play as play_rendering
    from loosen.playback.remote import Remote
    from loosen.playback.resume import SavedPosition, clear_position, save_position

    play = play or PlayOptions()
    start_s = check_play_options(play)
    with (
        native_stderr_silenced(),
        open_rendering(
            script, options, listener=listener, progressive=True, ahead=True
        ) as rendering,
    ):
        key = str(rendering.session.path.resolve()) if rendering.session.path else str(script)
        start_frame, notice = where_to_start(
            rendering, key, from_step=play.from_step, start_s=start_s, resume=play.resume,
            start_text=str(play.start),
        )  # fmt: skip
        if notice is not None:
            listener.say(notice)
        opening = _open_media_controls(rendering, listener) if play.media_keys else None
        remote = Remote(opening.inbox, opening) if opening is not None else None
        try:
            result = play_rendering(
                rendering,
                start_frame=start_frame,
                device=play.device,
                latency=play.latency_s,
                console=console,
                keys=keys,
                on_first_block=on_first_block,
                remote=remote,
                announce=play.announce,
                wait_reminder_s=play.wait_reminder_s,
            )
        finally:
            if opening is not None:
                opening.close()
                if opening.failure is not None:
                    listener.tell(f"media keys were off: {opening.failure}")
        if result.reason == "end":
            clear_position(key)
        elif result.step is not None:
            step = rendering.steps[result.step.index - 1]
            time_s = result.frame / rendering.sample_rate
            save_position(key, SavedPosition(step.index, step.name, time_s, step.address))
        return PlayOutcome(
            result=result,
            duration_s=rendering.timeline.duration_s,
            steps=tuple(rendering.steps),
            sample_rate=rendering.sample_rate,
        )


def _open_media_controls(rendering: Rendering, listener: Listener) -> MediaControlsOpening | None:
    """The desktop's media controls for ``rendering``, opening in the background; None (and
    why, for a verbose front end) where there are none."""
    from loosen.media import MediaControlsOpening, NoMediaControlsError
    from loosen.playback.remote import Inbox, NowPlaying

    try:
        return MediaControlsOpening(Inbox(), NowPlaying(rendering.session.title))
    except NoMediaControlsError as error:
        listener.tell(f"media keys off: {error}")
        return None


def where_to_start(
    rendering: Rendering,
    key: str,
    *,
    from_step: str | None = None,
    start_s: float | None = None,
    resume: bool = False,
    start_text: str | None = None,
) -> tuple[int, str | None]:
    """The frame playback starts at, and what to tell the listener about it (or None): at the
    step ``from_step``, at ``start_s`` seconds (`BadValueError` "start" past the end; shown as
    ``start_text``), at the place saved under ``key`` with ``resume``, or at the beginning."""
    from loosen.plan.addresses import find_step
    from loosen.playback.resume import SavedPlacesError, load_position
    from loosen.script.durations import format_length

    if from_step is not None:
        return rendering.step_start(find_step(rendering.steps, from_step)), None
    if start_s is not None:
        start_frame = round(start_s * rendering.sample_rate)
        rendering.place_until(start_frame + 1)
        if rendering.finished and start_frame >= rendering.timeline.total_frames:
            length = format_length(rendering.timeline.duration_s)
            shown = start_text if start_text is not None else f"{start_s:g}"
            raise BadValueError("start", shown, f"past the end of the session ({length})")
        return start_frame, None
    if not resume:
        return 0, None
    try:
        saved = load_position(key)
    except SavedPlacesError as error:
        return 0, f"The saved places could not be read ({error}); starting from the beginning."
    if saved is None:
        return 0, "Nothing saved to resume for this session; starting from the beginning."
    steps = rendering.steps
    if not 1 <= saved.step <= len(steps) or steps[saved.step - 1].name != saved.step_name:
        return 0, (
            f"The place saved (step {saved.step}, {saved.address or saved.step_name}) is no "
            "longer in this session; starting from the beginning."
        )
    step = steps[saved.step - 1]
    return rendering.step_start(step.index), f"Resuming at step {step.index}, {step.address}."
