"""Where the data that ships with `loosen` lives: bundled session scripts and sound recipes."""

from __future__ import annotations

from pathlib import Path

__all__ = ["bundled_dir"]

_PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_dir(name: str) -> Path:
    """Return the folder of bundled data ``name`` (``"scripts"`` or ``"audio_templates"``).

    An installed wheel carries the folders inside the package; a source checkout (editable
    install, tests) keeps them at the top of the repository.
    """
    inside = _PACKAGE_DIR / name
    if inside.is_dir():
        return inside
    return _PACKAGE_DIR.parent.parent / name
