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

import importlib
import sys

from loosen.errors import LoosenError
from loosen.playback.remote import Inbox, MediaControls, NowPlaying

__all__ = ["NoMediaControlsError", "open_media_controls"]

# platform prefix -> module (in this package) whose `open_controls` opens its backend
_BACKENDS = {"linux": "mpris", "freebsd": "mpris", "openbsd": "mpris", "netbsd": "mpris"}


class NoMediaControlsError(LoosenError):
    """No media controls here; the message says why (shown with ``-v``)."""


def open_media_controls(
    inbox: Inbox, now: NowPlaying, *, platform: str = sys.platform, timeout_s: float = 5.0
) -> MediaControls:
    """The desktop's media controls for a player whose commands go to ``inbox``, showing
    ``now`` until told otherwise; `NoMediaControlsError` if this platform or machine has none.
    Waits at most ``timeout_s`` for the backend to register."""
    module = next((m for prefix, m in _BACKENDS.items() if platform.startswith(prefix)), None)
    if module is None:
        raise NoMediaControlsError(f"media keys are not supported on {platform} yet")
    backend = importlib.import_module(f"loosen.media.{module}")
    controls: MediaControls = backend.open_controls(inbox, now, timeout_s=timeout_s)
    return controls
