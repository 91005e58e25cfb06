"""The library's front door: open a session's rendering, export it, or play it, the way the
`loosen` commands do (the command line only translates between its options and these).

    from pathlib import Path
    from loosen import ExportOptions, SessionOptions, export_session

    result = export_session(
        "back-loosening", Path("back.flac"), SessionOptions(pace=1.2), ExportOptions(loudness=-18)
    )

`SessionOptions` says how a session sounds (engine, voice, rate, pace or fit, settings as
``"STEP.KEY=VALUE"``, `MixOptions` for the levels and the ambience, sample rate, channels, the
speech cache); what it leaves unset comes from the user's config file (`loosen.config`), then
the script (`loosen.session.choices` says in which order). `ExportOptions` says what a file
gets (loudness, quality, sidecars, split parts, the timeline as JSON, the cover) and
`PlayOptions` where and how playback starts; `session_cover` gives a session's generated cover
(a JPEG) for a front end to show. A `Listener` hears progress, details, notices and warnings: the
library prints nothing. Errors are the project's (`loosen.errors`): a bad value is a
`BadValueError` naming the value ("pace '9': the factor must be from 0.25 to 4"), never a
command's option. `find_sessions`, `describe_session`, `length_without_speaking`,
`session_voices` and `pace_presets` say what there is to offer before anything is rendered
(`loosen serve`'s lists); `session_cover` and `title_cover` give the covers to show.
"""

from __future__ import annotations

from loosen.cache_dirs import cache_dir
from loosen.session.catalog import (
    SessionEntry,
    SessionSummary,
    describe_session,
    find_sessions,
    pace_presets,
    session_voices,
)
from loosen.session.covers import session_cover, title_cover
from loosen.session.exporting import ExportResult, check_export, export_session
from loosen.session.opening import length_without_speaking, open_rendering
from loosen.session.options import QUIET, ExportOptions, Listener, MixOptions, SessionOptions
from loosen.session.playing import PlayOptions, PlayOutcome, play_session

__all__ = [
    "QUIET",
    "ExportOptions",
    "ExportResult",
    "Listener",
    "MixOptions",
    "PlayOptions",
    "PlayOutcome",
    "SessionEntry",
    "SessionOptions",
    "SessionSummary",
    "cache_dir",
    "check_export",
    "describe_session",
    "export_session",
    "find_sessions",
    "length_without_speaking",
    "open_rendering",
    "pace_presets",
    "play_session",
    "session_cover",
    "session_voices",
    "title_cover",
]
