"""A session's cover: the one an export embeds (`export_cover`), and the generated one a front
end shows beside the session (`session_cover`; a web page serves it)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from loosen.session.options import SessionOptions

if TYPE_CHECKING:
    from loosen.plan.chapters import Cover

__all__ = ["COVER_OFF", "asked_cover_file", "export_cover", "session_cover", "title_cover"]

COVER_OFF = "off"  # `ExportOptions.cover`: no cover
COVER_SUBTITLE = "loosen"


def session_cover(script: str | Path, options: SessionOptions | None = None) -> bytes:
    """The generated cover of ``script`` (a file, or a bundled session's name; loaded with
    ``options``' settings, nothing synthesized): a JPEG, 1400 pixels square, the same bytes an
    export embeds by default (`loosen.output.cover.render_cover`). Raises what loading the
    script raises (`ScriptError`)."""
    from loosen.config import load_defaults
    from loosen.output.cover import render_cover
    from loosen.session.choices import load_for

    session = load_for(str(script), options or SessionOptions(), load_defaults())
    return render_cover(session.title, COVER_SUBTITLE)


def title_cover(title: str, subtitle: str = COVER_SUBTITLE) -> bytes:
    """A generated cover for ``title`` that is no session's (a front end's own: a podcast feed's):
    a JPEG, 1400 pixels square, as `session_cover` makes them."""
    from loosen.output.cover import render_cover

    return render_cover(title, subtitle)


def asked_cover_file(asked: Path | str | None) -> Cover | None:
    """The user's own picture that ``asked`` (`ExportOptions.cover`) names, read and checked
    (`loosen.output.cover.read_cover`: `BadValueError` "cover" naming the file); None when
    ``asked`` is None (the generated cover) or ``"off"``."""
    if asked is None or asked == COVER_OFF:
        return None
    from loosen.output.cover import read_cover

    return read_cover(Path(asked))


def export_cover(asked: Path | str | None, title: str, file: Cover | None) -> Cover | None:
    """The cover an export of a session titled ``title`` embeds: ``file`` (what
    `asked_cover_file` read), else the generated one unless ``asked`` is ``"off"``."""
    if file is not None or asked == COVER_OFF:
        return file
    from loosen.output.cover import generated_cover

    return generated_cover(title, COVER_SUBTITLE)
