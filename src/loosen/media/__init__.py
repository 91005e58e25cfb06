"""Media controls of the desktop for `loosen play`: the front end that turns headset buttons,
media keys, the lock screen and phone remotes into the player's `Command`s.

`open_media_controls` opens the backend of this platform, loaded lazily, or says why there is
none (`NoMediaControlsError`): then the terminal's keys still work. Backends:

- Linux and the BSDs: MPRIS 2 on the D-Bus session bus (`loosen.media.mpris`, dbus-fast), as
  GNOME, KDE, playerctl and KDE Connect / GSConnect drive it;
- macOS (Now Playing) and Windows (system media transport controls): not yet; a backend goes in
  a module of its own here and is named in `_BACKENDS`.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from loosen.errors import NoMediaControlsError
from loosen.playback.remote import Inbox, MediaControls, NowPlaying

__all__ = ["MediaControlsOpening", "NoMediaControlsError", "open_media_controls"]

# platform prefix -> module (in this package) whose `open_controls` opens its backend
_CLOSE_TIMEOUT_S = 2.0
_BACKENDS = {"linux": "mpris", "freebsd": "mpris", "openbsd": "mpris", "netbsd": "mpris"}


def _check_platform(platform: str) -> str:
    """The backend module for ``platform``, or `NoMediaControlsError` at once where it cannot
    work (no backend; MPRIS without a session bus)."""
    module = next((m for prefix, m in _BACKENDS.items() if platform.startswith(prefix)), None)
    if module is None:
        raise NoMediaControlsError(f"media keys are not supported on {platform} yet")
    if module == "mpris" and not _session_bus_named():
        raise NoMediaControlsError("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
    return module


def _session_bus_named() -> bool:
    if os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return True
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return runtime is not None and (Path(runtime) / "bus").exists()


def open_media_controls(
    inbox: Inbox, now: NowPlaying, *, platform: str = sys.platform, timeout_s: float = 5.0
) -> MediaControls:
    """The desktop's media controls for a player whose commands go to ``inbox``, showing
    ``now`` until told otherwise; `NoMediaControlsError` if this platform or machine has none.
    Waits at most ``timeout_s`` for the backend to register."""
    _check_platform(platform)  # (each backend is imported here, when it is the platform's)
    from loosen.media import mpris

    return mpris.open_controls(inbox, now, timeout_s=timeout_s)


class MediaControlsOpening:
    """Media controls opened in the background (``loosen-media-open``), so that the first sound
    waits for no bus: `show` is kept until they are open, `close` waits for the opening and
    closes them; ``failure`` says why there are none, once the opening has ended.

    `NoMediaControlsError` at once where none can open (no backend, no session bus)."""

    name = "media controls"

    def __init__(self, inbox: Inbox, now: NowPlaying, *, platform: str = sys.platform) -> None:
        _check_platform(platform)
        self.inbox = inbox
        self.failure: NoMediaControlsError | None = None
        self._controls: MediaControls | None = None
        self._latest = now
        self._lock = threading.Lock()  # between `show`, `close` and the opening's hand-over
        self._closed = False
        self._thread = threading.Thread(
            target=self._open, args=(inbox, platform), name="loosen-media-open", daemon=True
        )
        self._thread.start()

    def _open(self, inbox: Inbox, platform: str) -> None:
        try:
            controls = open_media_controls(inbox, self._latest, platform=platform)
        except NoMediaControlsError as error:
            self.failure = error
            return
        except Exception as error:
            self.failure = NoMediaControlsError(f"media controls failed to open: {error}")
            return
        with self._lock:
            if self._closed:  # the player ended while they opened
                controls.close()
                return
            self._controls = controls
            latest = self._latest
        controls.show(latest)

    def show(self, now: NowPlaying) -> None:
        with self._lock:
            self._latest = now
            controls = self._controls
        if controls is not None:
            controls.show(now)

    def close(self) -> None:
        """Close the controls, or have the opening close them as soon as it has them (it is
        not waited for longer than a moment: a bus that hangs does not hold the player)."""
        with self._lock:
            self._closed = True
            controls = self._controls
        if controls is not None:
            controls.close()
        self._thread.join(timeout=_CLOSE_TIMEOUT_S)
