"""MPRIS 2 (``org.mpris.MediaPlayer2``) on the D-Bus session bus, through dbus-fast: what
GNOME's and KDE's media controls and lock screens, the desktop's media-key and headset-button
handling, `playerctl` and phone remotes (KDE Connect, GSConnect) drive.

Each step is a track: ``mpris:trackid`` ``/org/loosen/step/N``, ``xesam:title`` the step's name
and side, ``xesam:album`` the session's title, ``xesam:artist`` ``["loosen"]``,
``mpris:length`` the step's length; ``Position`` is within the step. The calls map onto the
player's keys: PlayPause (space), Next (right), Previous (left), Stop (q), Volume (up/down to a
level); ``Seek`` forward extends the running hold by 10 s (``e``), backward is Previous;
``SetPosition`` goes to the start of the step whose track it names (the player never starts
in the middle of a step).

The bus runs on an asyncio loop in a thread of its own (``loosen-mpris``), owned by
`MprisControls`, whose `close` unregisters and joins it.
"""

# No `from __future__ import annotations`: dbus-fast reads the D-Bus signatures from the
# annotations, and a deferred ``-> None`` would read as a signature of None.
import asyncio
import contextlib
import os
import threading
from dataclasses import replace
from typing import Annotated

from loosen.errors import NoMediaControlsError
from loosen.playback.remote import Action, Command, Inbox, NowPlaying, Status

try:
    from dbus_fast import PropertyAccess, Variant
    from dbus_fast.aio import MessageBus
    from dbus_fast.annotations import (
        DBusBool,
        DBusDouble,
        DBusInt64,
        DBusObjectPath,
        DBusSignature,
        DBusStr,
    )
    from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal
except ImportError as missing:  # pragma: no cover - dbus-fast is a Linux dependency
    raise NoMediaControlsError(f"media keys need dbus-fast ({missing})") from None

__all__ = ["BUS_NAME_PREFIX", "MprisControls", "open_controls", "track_id"]

BUS_NAME_PREFIX = "org.mpris.MediaPlayer2.loosen"
OBJECT_PATH = "/org/mpris/MediaPlayer2"
NO_TRACK = "/org/mpris/MediaPlayer2/TrackList/NoTrack"
_TRACK_PREFIX = "/org/loosen/step/"
_US_PER_S = 1_000_000
_CLOSE_TIMEOUT_S = 2.0
_JUMP_S = 1.0  # a position that moves on by less, forward, is playing on; otherwise a seek

DBusStrings = Annotated[list[str], DBusSignature("as")]
DBusMetadata = Annotated[dict[str, Variant], DBusSignature("a{sv}")]


def track_id(step: int) -> str:
    """The ``mpris:trackid`` of step ``step`` (from 1; 0: before the first, no track)."""
    return f"{_TRACK_PREFIX}{step}" if step > 0 else NO_TRACK


def metadata(now: NowPlaying) -> dict[str, Variant]:
    """``now`` as MPRIS metadata."""
    found = {"mpris:trackid": Variant("o", track_id(now.step))}
    if now.step > 0:
        found["mpris:length"] = Variant("x", round(now.length_s * _US_PER_S))
        found["xesam:title"] = Variant("s", now.title)
    found["xesam:album"] = Variant("s", now.session_title)
    found["xesam:artist"] = Variant("as", ["loosen"])
    return found


class _Root(ServiceInterface):
    """``org.mpris.MediaPlayer2``: who the player is; Quit stops it."""

    def __init__(self, inbox: Inbox) -> None:
        super().__init__("org.mpris.MediaPlayer2")
        self._inbox = inbox

    @dbus_method()
    def Raise(self) -> None:  # noqa: N802 - D-Bus names
        """There is no window to raise."""

    @dbus_method()
    def Quit(self) -> None:  # noqa: N802
        self._inbox.put(Command(Action.STOP))

    @dbus_property(access=PropertyAccess.READ)
    def CanQuit(self) -> DBusBool:  # noqa: N802
        return True

    @dbus_property(access=PropertyAccess.READ)
    def CanRaise(self) -> DBusBool:  # noqa: N802
        return False

    @dbus_property(access=PropertyAccess.READ)
    def HasTrackList(self) -> DBusBool:  # noqa: N802
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Identity(self) -> DBusStr:  # noqa: N802
        return "loosen"

    @dbus_property(access=PropertyAccess.READ)
    def SupportedUriSchemes(self) -> DBusStrings:  # noqa: N802
        return []

    @dbus_property(access=PropertyAccess.READ)
    def SupportedMimeTypes(self) -> DBusStrings:  # noqa: N802
        return []


class _Player(ServiceInterface):
    """``org.mpris.MediaPlayer2.Player``: commands into the inbox, `NowPlaying` out."""

    def __init__(self, inbox: Inbox, now: NowPlaying) -> None:
        super().__init__("org.mpris.MediaPlayer2.Player")
        self._inbox = inbox
        self.now = now

    def update(self, now: NowPlaying) -> None:
        """Show ``now``: PropertiesChanged for what changed (Position is asked for, as the
        specification says); a jump within a step, a Seeked signal."""
        old, self.now = self.now, now
        changed: dict[str, object] = {}
        if now.status != old.status:
            changed["PlaybackStatus"] = now.status.value
        if (now.step, now.title, now.length_s, now.session_title) != (
            old.step, old.title, old.length_s, old.session_title
        ):  # fmt: skip
            changed["Metadata"] = metadata(now)
        if now.volume != old.volume:
            changed["Volume"] = now.volume
        if now.can_go_next != old.can_go_next:
            changed["CanGoNext"] = now.can_go_next
        if now.can_go_previous != old.can_go_previous:
            changed["CanGoPrevious"] = now.can_go_previous
        if changed:
            self.emit_properties_changed(changed)
        moved_s = now.position_s - old.position_s
        if now.step == old.step and not 0 <= moved_s < _JUMP_S:
            self.Seeked()  # the same step from elsewhere: its start again, or a hold extended

    def _put(self, action: Action, **values: float | int | None) -> None:
        self._inbox.put(Command(action, **values))  # type: ignore[arg-type]

    @dbus_method()
    def Next(self) -> None:  # noqa: N802
        self._put(Action.NEXT)

    @dbus_method()
    def Previous(self) -> None:  # noqa: N802
        self._put(Action.PREVIOUS)

    @dbus_method()
    def Pause(self) -> None:  # noqa: N802
        self._put(Action.PAUSE)

    @dbus_method()
    def PlayPause(self) -> None:  # noqa: N802
        self._put(Action.PLAY_PAUSE)

    @dbus_method()
    def Stop(self) -> None:  # noqa: N802
        self._put(Action.STOP)

    @dbus_method()
    def Play(self) -> None:  # noqa: N802
        self._put(Action.PLAY)

    @dbus_method()
    def Seek(self, offset_us: DBusInt64) -> None:  # noqa: N802
        if offset_us > 0:
            self._put(Action.EXTEND)
        elif offset_us < 0:
            self._put(Action.PREVIOUS)

    @dbus_method()
    def SetPosition(self, track: DBusObjectPath, position_us: DBusInt64) -> None:  # noqa: N802
        if track.startswith(_TRACK_PREFIX) and track[len(_TRACK_PREFIX) :].isdigit():
            self._put(Action.GO_TO_STEP, step=int(track[len(_TRACK_PREFIX) :]))

    @dbus_method()
    def OpenUri(self, uri: DBusStr) -> None:  # noqa: N802
        """A session is chosen on the command line, not opened by URI."""

    @dbus_signal()
    def Seeked(self) -> DBusInt64:  # noqa: N802
        return round(self.now.position_s * _US_PER_S)

    @dbus_property(access=PropertyAccess.READ)
    def PlaybackStatus(self) -> DBusStr:  # noqa: N802
        return self.now.status.value

    @dbus_property()
    def Rate(self) -> DBusDouble:  # noqa: N802
        return 1.0

    @Rate.setter
    def _set_rate(self, rate: DBusDouble) -> None:
        """Time is the session's: its rate stays 1.0 (MinimumRate = MaximumRate)."""

    @dbus_property(access=PropertyAccess.READ)
    def MinimumRate(self) -> DBusDouble:  # noqa: N802
        return 1.0

    @dbus_property(access=PropertyAccess.READ)
    def MaximumRate(self) -> DBusDouble:  # noqa: N802
        return 1.0

    @dbus_property(access=PropertyAccess.READ)
    def Metadata(self) -> DBusMetadata:  # noqa: N802
        return metadata(self.now)

    @dbus_property()
    def Volume(self) -> DBusDouble:  # noqa: N802
        return self.now.volume

    @Volume.setter
    def _set_volume(self, volume: DBusDouble) -> None:
        self._put(Action.VOLUME, volume=float(volume))  # the player keeps it in its range

    @dbus_property(access=PropertyAccess.READ)
    def Position(self) -> DBusInt64:  # noqa: N802
        return round(self.now.position_s * _US_PER_S)

    @dbus_property(access=PropertyAccess.READ)
    def CanGoNext(self) -> DBusBool:  # noqa: N802
        return self.now.can_go_next

    @dbus_property(access=PropertyAccess.READ)
    def CanGoPrevious(self) -> DBusBool:  # noqa: N802
        return self.now.can_go_previous

    @dbus_property(access=PropertyAccess.READ)
    def CanPlay(self) -> DBusBool:  # noqa: N802
        return self.now.status != Status.STOPPED

    @dbus_property(access=PropertyAccess.READ)
    def CanPause(self) -> DBusBool:  # noqa: N802
        return self.now.status != Status.STOPPED

    @dbus_property(access=PropertyAccess.READ)
    def CanSeek(self) -> DBusBool:  # noqa: N802
        return True

    @dbus_property(access=PropertyAccess.READ)
    def CanControl(self) -> DBusBool:  # noqa: N802
        return True


class MprisControls:
    """An MPRIS 2 player on the session bus, served from the thread ``loosen-mpris`` until
    `close`. ``bus_name``: the name it holds, ``org.mpris.MediaPlayer2.loosen.instance<pid>``
    (``playerctl -p loosen`` finds it)."""

    name = "MPRIS"

    def __init__(self, inbox: Inbox, now: NowPlaying, *, bus_address: str | None = None) -> None:
        self.bus_name = f"{BUS_NAME_PREFIX}.instance{os.getpid()}"
        self._root = _Root(inbox)
        self._player = _Player(inbox, now)
        self._address = bus_address
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._timeout_s = 5.0
        self._thread = threading.Thread(target=self._run, name="loosen-mpris", daemon=True)

    def start(self, timeout_s: float) -> None:
        """Register on the bus; `NoMediaControlsError` if that fails or takes over ``timeout_s``
        (a bus that takes the connection and never answers: the thread gives up by then too)."""
        self._timeout_s = timeout_s
        self._thread.start()
        self._ready.wait()  # set by the thread: registered, failed, or timed out
        if self._failure is not None:
            self._thread.join()
            raise NoMediaControlsError(f"the D-Bus session bus refused: {self._failure}")

    def show(self, now: NowPlaying) -> None:
        """Show ``now`` (from any thread, without waiting); a change of position alone goes
        without waking the bus's thread (``Position`` is asked for, never signalled)."""
        player = self._player
        moved_s = now.position_s - player.now.position_s
        if now == replace(player.now, position_s=now.position_s) and 0 <= moved_s < _JUMP_S:
            player.now = now  # playing on
            return
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed meanwhile
                loop.call_soon_threadsafe(player.update, now)

    def close(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is over already
                loop.call_soon_threadsafe(stop.set)
        if self._thread.is_alive():
            self._thread.join(timeout=_CLOSE_TIMEOUT_S)  # a daemon: a hung bus dies with us

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported by `start`
            self._failure = error
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        bus = await asyncio.wait_for(
            MessageBus(bus_address=self._address).connect(), self._timeout_s
        )
        try:
            bus.export(OBJECT_PATH, self._root)
            bus.export(OBJECT_PATH, self._player)
            await asyncio.wait_for(bus.request_name(self.bus_name), self._timeout_s)
            self._ready.set()
            await self._stop.wait()
        finally:
            bus.disconnect()
            await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]


def open_controls(inbox: Inbox, now: NowPlaying, *, timeout_s: float) -> MprisControls:
    """`MprisControls` registered on the session bus; `NoMediaControlsError` if that fails."""
    controls = MprisControls(inbox, now)
    controls.start(timeout_s)
    return controls
