"""loosen: guided audio for progressive muscle relaxation and stretch routines.

The front door (`loosen.pipeline`: options, open a rendering, export, play) and the parts
beneath it are re-exported here lazily, so ``import loosen`` (and ``loosen --help``) stays
cheap: numpy, soundfile and the speech engine load only when a renderer is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any


def _version() -> str:
    """The version in pyproject.toml, as the installed package's metadata gives it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("loosen")
    except PackageNotFoundError:  # a source tree on sys.path, not installed
        return "0+unknown"


_EXPORTS = {
    "ExportOptions": "loosen.pipeline",
    "ExportResult": "loosen.pipeline",
    "Listener": "loosen.pipeline",
    "MixOptions": "loosen.pipeline",
    "PlayOptions": "loosen.pipeline",
    "PlayOutcome": "loosen.pipeline",
    "SessionOptions": "loosen.pipeline",
    "export_session": "loosen.pipeline",
    "open_rendering": "loosen.pipeline",
    "play_session": "loosen.pipeline",
    "session_cover": "loosen.pipeline",
    "BadInputError": "loosen.errors",
    "ExportError": "loosen.errors",
    "LoosenError": "loosen.errors",
    "ScriptError": "loosen.errors",
    "SpeechError": "loosen.errors",
    "Pacing": "loosen.script.loading",
    "Session": "loosen.script.loading",
    "load_session": "loosen.script.loading",
    "parse_session": "loosen.script.loading",
    "expand_session": "loosen.plan.expand",
    "Timeline": "loosen.plan.timeline",
    "build_timeline": "loosen.plan.timeline",
    "Rendering": "loosen.render.rendering",
    "render_session": "loosen.render.rendering",
    "export_blocks": "loosen.output.export",
    "load_cue_set": "loosen.sound.cues",
    "render_cue": "loosen.sound.cues",
    "Speech": "loosen.tts",
    "SpeechCache": "loosen.tts",
    "open_engine": "loosen.tts",
}

__all__ = ["__version__", *sorted(_EXPORTS)]

if TYPE_CHECKING:
    __version__: str
    from loosen.errors import (
        BadInputError as BadInputError,
    )
    from loosen.errors import (
        ExportError as ExportError,
    )
    from loosen.errors import (
        LoosenError as LoosenError,
    )
    from loosen.errors import (
        ScriptError as ScriptError,
    )
    from loosen.errors import (
        SpeechError as SpeechError,
    )
    from loosen.output.export import export_blocks as export_blocks
    from loosen.pipeline import ExportOptions as ExportOptions
    from loosen.pipeline import ExportResult as ExportResult
    from loosen.pipeline import Listener as Listener
    from loosen.pipeline import MixOptions as MixOptions
    from loosen.pipeline import PlayOptions as PlayOptions
    from loosen.pipeline import PlayOutcome as PlayOutcome
    from loosen.pipeline import SessionOptions as SessionOptions
    from loosen.pipeline import export_session as export_session
    from loosen.pipeline import open_rendering as open_rendering
    from loosen.pipeline import play_session as play_session
    from loosen.pipeline import session_cover as session_cover
    from loosen.plan.expand import expand_session as expand_session
    from loosen.plan.timeline import Timeline as Timeline
    from loosen.plan.timeline import build_timeline as build_timeline
    from loosen.render.rendering import Rendering as Rendering
    from loosen.render.rendering import render_session as render_session
    from loosen.script.loading import (
        Pacing as Pacing,
    )
    from loosen.script.loading import (
        Session as Session,
    )
    from loosen.script.loading import (
        load_session as load_session,
    )
    from loosen.script.loading import (
        parse_session as parse_session,
    )
    from loosen.sound.cues import load_cue_set as load_cue_set
    from loosen.sound.cues import render_cue as render_cue
    from loosen.tts import Speech as Speech
    from loosen.tts import SpeechCache as SpeechCache
    from loosen.tts import open_engine as open_engine


def __getattr__(name: str) -> Any:
    if name == "__version__":  # read when asked: importlib.metadata is not free at start-up
        return _version()
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'loosen' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
