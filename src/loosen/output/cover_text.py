"""The text on a generated cover: the title word-wrapped at the largest size that fits, the
subtitle smaller below it, centred, and the font each is drawn in.

The font is the one Pillow bundles (`ImageFont.load_default`, Aileron, through the FreeType its
wheels include): nothing is downloaded and no system font is read. It draws ASCII and a little
punctuation: an accented letter is drawn as its base letter (``É`` as ``E``, ``ß`` as ``ss``).
A title in a script it lacks (Greek, Cyrillic, Hebrew, Arabic, Armenian, Georgian: more of its
letters drawn by the other font than by Aileron) is drawn in DejaVu Sans, which loosen ships
(``loosen/data/fonts``, its licence beside it); Hebrew and Arabic only where Pillow has raqm
to lay them out (its wheels do, with FriBiDi installed). What neither font has a glyph for (an
emoji, Chinese or Japanese) is left out (`drawable`), and the file's tags keep the title whole.
"""

from __future__ import annotations

import functools
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from PIL import ImageFont

__all__ = [
    "COVER_SIZE_PX",
    "Face",
    "TextLine",
    "drawable",
    "font",
    "layout_text",
    "margin_px",
    "shapes_right_to_left",
]

COVER_SIZE_PX = 1400  # Apple Podcasts' least (and 3000 its most)
_MARGIN = 0.11  # of the side: the text stays this far from every edge
_TITLE_MAX = 0.105  # the title's font size, at most, as a part of the side
_TITLE_MIN = 0.035  # ... and at least: a longer title is cut short with an ellipsis
_SUBTITLE = 0.036
_MAX_LINES = 6
_LINE_SPACING = 1.22  # of the font size

#: the font a text is drawn in: Pillow's own, or the wider one loosen ships
Face = Literal["aileron", "dejavu"]
_WIDE_FONT = Path(__file__).parent.parent / "data" / "fonts" / "DejaVuSans.ttf"  # package data


@dataclass(frozen=True)
class TextLine:
    """A line of text as placed on the cover: its font (``face``) and size, and its ink's box
    in pixels (left, top, right, bottom), measured with that font."""

    text: str
    font_px: int
    box: tuple[int, int, int, int]
    face: Face = "aileron"


def margin_px(size_px: int) -> int:
    """How far the text stays from every edge of a cover ``size_px`` pixels square."""
    return round(size_px * _MARGIN)


def layout_text(
    title: str, subtitle: str = "loosen", *, size_px: int = COVER_SIZE_PX
) -> list[TextLine]:
    """The title's lines (word-wrapped, at the largest size that fits inside the margins,
    `margin_px`) and the subtitle's, centred on a cover ``size_px`` pixels square."""
    inner = size_px - 2 * margin_px(size_px)
    face, sub_face = face_for(title), face_for(subtitle)
    title, subtitle = drawable(title, face), drawable(subtitle, sub_face)
    title_px, lines = _fitted_title(title, inner, size_px, face) if title else (0, [])
    sub_px = max(8, round(size_px * _SUBTITLE))
    subs = _wrapped(subtitle, font(sub_px, sub_face), inner)[:1] if subtitle else []
    if subs and _width(font(sub_px, sub_face), subs[0]) > inner:
        subs = [_shortened(subs[0], font(sub_px, sub_face), inner)]
    step = round(title_px * _LINE_SPACING)
    gap = round(title_px * 0.9) if subs else 0
    height = step * len(lines) + gap + (round(sub_px * _LINE_SPACING) if subs else 0)
    top = (size_px - height) // 2 - round(size_px * 0.06)  # a little above the middle
    placed = [
        _centred(text, title_px, top + step * row, size_px, face) for row, text in enumerate(lines)
    ]
    if subs:
        placed.append(_centred(subs[0], sub_px, top + step * len(lines) + gap, size_px, sub_face))
    return placed


# what the font lacks, written with the letters it has
_SPELLED = str.maketrans({"ß": "ss", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Ø": "O",
                          "ø": "o", "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Þ": "Th",
                          "þ": "th", "—": "-", "–": "-", "‐": "-", "−": "-"})  # fmt: skip


def drawable(text: str, face: Face = "aileron") -> str:
    """``text`` as the font ``face`` can draw it: spaces collapsed, what it has no glyph for
    left out; for Pillow's own, accents dropped (``É`` as ``E``) and a few letters spelled out
    (``ß`` as ``ss``) first."""
    if face == "aileron":
        text = unicodedata.normalize("NFKD", text.translate(_SPELLED))
    else:
        text = unicodedata.normalize("NFC", text)
    kept = "".join(c for c in text if c.isspace() or _has_glyph(c, face))
    return " ".join(kept.split())


def face_for(text: str) -> Face:
    """The font ``text`` is drawn in: DejaVu Sans where it draws more of its letters than
    Pillow's own does (another script), else Pillow's own."""
    drawn = {face: sum(c.isalnum() for c in drawable(text, face)) for face in _FACES}
    return "dejavu" if drawn["dejavu"] > drawn["aileron"] else "aileron"


_FACES: tuple[Face, ...] = ("aileron", "dejavu")


@functools.lru_cache(maxsize=4096)
def _has_glyph(character: str, face: Face) -> bool:
    if unicodedata.bidirectional(character) in ("R", "AL") and not shapes_right_to_left():
        return False  # Hebrew or Arabic, which only raqm lays out right (else drawn reversed)
    return bytes(font(32, face).getmask(character)) != _missing_glyph(face)


@functools.cache
def shapes_right_to_left() -> bool:
    """Whether this Pillow lays text out with raqm (and FriBiDi): right-to-left scripts in
    their order, Arabic's letters joined. Without it, their letters are left out."""
    from PIL import features

    return bool(features.check("raqm"))


@functools.lru_cache(maxsize=2)
def _missing_glyph(face: Face) -> bytes:
    return bytes(font(32, face).getmask("\ue000"))  # a private-use character: no glyph


def _fitted_title(title: str, inner: int, size_px: int, face: Face) -> tuple[int, list[str]]:
    """The largest font size (px) at which ``title`` wraps into at most `_MAX_LINES` lines
    ``inner`` pixels wide with no word broken, and the lines; at the least size, a word wider
    than a line is broken and what does not fit is cut short."""
    font_px = round(size_px * _TITLE_MAX)
    least = round(size_px * _TITLE_MIN)
    while True:
        drawn_in = font(font_px, face)
        lines = _wrapped(title, drawn_in, inner)
        tall = round(font_px * _LINE_SPACING) * len(lines) <= inner * 0.62
        whole = all(_width(drawn_in, word) <= inner for word in title.split())  # none broken
        if len(lines) <= _MAX_LINES and tall and whole:
            return font_px, lines
        if font_px <= least:
            kept = lines[:_MAX_LINES]
            kept[-1] = _shortened(kept[-1] + " …", drawn_in, inner)
            return font_px, kept
        font_px = max(least, round(font_px * 0.92))


def _wrapped(text: str, font: ImageFont.FreeTypeFont, width_px: int) -> list[str]:
    """``text`` in lines no wider than ``width_px``; a word too wide alone is broken."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if _width(font, candidate) <= width_px:
            line = candidate
            continue
        if line:
            lines.append(line)
        while _width(font, word) > width_px:  # a word wider than a line: broken where it fills
            cut = max(
                1, next(i for i in range(len(word), 0, -1) if _width(font, word[:i]) <= width_px)
            )
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def _shortened(text: str, font: ImageFont.FreeTypeFont, width_px: int) -> str:
    """``text``, cut short with an ellipsis until it is no wider than ``width_px``."""
    while _width(font, text) > width_px and len(text) > 1:
        text = text[:-2].rstrip() + "…"
    return text


def _centred(text: str, font_px: int, top_px: int, size_px: int, face: Face) -> TextLine:
    left, ink_top, right, bottom = (int(edge) for edge in font(font_px, face).getbbox(text))
    width, height = right - left, bottom - ink_top
    x = (size_px - width) // 2
    # the line's origin at ``top_px``: every line's ink sits on the same baseline spacing
    box = (x, top_px + ink_top, x + width, top_px + ink_top + height)
    return TextLine(text, font_px, box, face)


def _width(font: ImageFont.FreeTypeFont, text: str) -> int:
    left, _, right, _ = font.getbbox(text)
    return int(right - left)


def font(font_px: int, face: Face = "aileron") -> ImageFont.FreeTypeFont:
    """The font ``face`` at ``font_px`` pixels (a new one each time: a FreeType face is not to
    be shared between threads, and a server draws covers in several)."""
    from PIL import ImageFont

    if face == "dejavu":
        return ImageFont.truetype(io.BytesIO(_wide_font_data()), size=font_px)
    default = ImageFont.load_default(size=font_px)
    if not isinstance(default, ImageFont.FreeTypeFont):  # a Pillow built without FreeType
        raise RuntimeError("Pillow has no FreeType here; reinstall Pillow from its wheels")
    return default


@functools.cache
def _wide_font_data() -> bytes:
    return _WIDE_FONT.read_bytes()
