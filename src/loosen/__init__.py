"""loosen: guided audio for progressive muscle relaxation and stretch routines.

The public API is re-exported here lazily, so ``import loosen`` (and ``loosen --help``) stays
cheap: numpy, soundfile and the speech engine load only when a renderer is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "BadInputError": "loosen.errors",
    "ExportError": "loosen.errors",
    "LoosenError": "loosen.errors",
    "ScriptError": "loosen.errors",
    "SpeechError": "loosen.errors",
    "Pacing": "loosen.script",
    "Session": "loosen.script",
    "load_session": "loosen.script",
    "parse_session": "loosen.script",
    "expand_session": "loosen.expand",
    "Timeline": "loosen.timeline",
    "build_timeline": "loosen.timeline",
    "Rendering": "loosen.render",
    "render_session": "loosen.render",
    "export_blocks": "loosen.export",
    "load_cue_set": "loosen.sounds",
    "render_cue": "loosen.sounds",
    "Speech": "loosen.tts",
    "SpeechCache": "loosen.tts",
    "open_engine": "loosen.tts",
}

__all__ = ["__version__", *sorted(_EXPORTS)]

if TYPE_CHECKING:
    from loosen.errors import BadInputError, ExportError, LoosenError, ScriptError, SpeechError
    from loosen.expand import expand_session
    from loosen.export import export_blocks
    from loosen.render import Rendering, render_session
    from loosen.script import Pacing, Session, load_session, parse_session
    from loosen.sounds import load_cue_set, render_cue
    from loosen.timeline import Timeline, build_timeline
    from loosen.tts import Speech, SpeechCache, open_engine


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'loosen' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
