"""A session's cover, generated: a calm square picture with its title, as a JPEG.

The design is a soft vertical gradient, a few faint rings round a low "sun" and gentle waves
along the bottom, in one of a few muted palettes (blue, teal, sand, dusk) picked from a hash of
the title, so that sessions differ and all stay calm; the title is word-wrapped and centred,
the subtitle smaller below it, in the font that draws the title best (`loosen.output.cover_text`:
Pillow's own, or DejaVu Sans for other scripts; nothing is downloaded, no system font is read).

The same title gives the same bytes (same Pillow): no timestamps, no random draws, a baseline
JPEG. 1400 pixels square by default, the least Apple Podcasts takes.

`generated_cover` makes it a `loosen.plan.chapters.Cover`; `read_cover` reads a user's own
picture (a JPEG or PNG), checked before any work.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from loosen.errors import BadValueError, ScriptError
from loosen.files import read_regular
from loosen.output.cover_text import (
    COVER_SIZE_PX,
    TextLine,
    drawable,
    font,
    layout_text,
    margin_px,
    shapes_right_to_left,
)
from loosen.plan.chapters import Cover

if TYPE_CHECKING:
    from pathlib import Path

    from PIL import Image

__all__ = [
    "COVER_MIME",
    "COVER_SIZE_PX",
    "MAX_COVER_BYTES",
    "MAX_COVER_SIDE_PX",
    "TextLine",
    "cover_cache_dir",
    "cover_of",
    "drawable",
    "generated_cover",
    "layout_text",
    "margin_px",
    "read_cover",
    "render_cover",
]

COVER_MIME = "image/jpeg"
MAX_COVER_BYTES = 8 * 2**20  # a user's picture; Apple's covers are well under 1 MB
MAX_COVER_SIDE_PX = 8192
_DESIGN = 2  # in the covers' cache key: a change of the drawing code is a new cover (2: DejaVu)
_QUALITY = 88  # JPEG quality: no visible banding in the gradient at about 100 KB
_MIN_SIZE_PX, _MAX_SIZE_PX = 64, 4096


@dataclass(frozen=True)
class _Palette:
    top: tuple[int, int, int]
    bottom: tuple[int, int, int]
    accent: tuple[int, int, int]  # the rings and waves
    text: tuple[int, int, int]


# muted, low-contrast colours; the text is the palette's own, legible on both ends
_PALETTES = (
    _Palette((196, 214, 222), (92, 128, 150), (238, 244, 246), (28, 44, 58)),  # mist blue
    _Palette((186, 216, 208), (70, 122, 120), (236, 246, 242), (22, 48, 48)),  # sea teal
    _Palette((236, 222, 198), (176, 150, 118), (250, 244, 232), (64, 48, 34)),  # sand
    _Palette((204, 200, 222), (98, 98, 138), (240, 238, 248), (34, 32, 60)),  # dusk
    _Palette((214, 226, 206), (112, 138, 112), (244, 248, 238), (34, 50, 34)),  # sage
)


def render_cover(title: str, subtitle: str = "loosen", *, size_px: int = COVER_SIZE_PX) -> bytes:
    """Return the cover of a session titled ``title``: a baseline RGB JPEG ``size_px``
    pixels square (64 to 4096), the same bytes for the same arguments. ``subtitle`` is drawn
    smaller under the title. `BadValueError` for a size out of range."""
    from PIL import ImageDraw

    if not _MIN_SIZE_PX <= size_px <= _MAX_SIZE_PX:
        raise BadValueError("cover size", str(size_px), f"from {_MIN_SIZE_PX} to {_MAX_SIZE_PX} px")
    palette = _palette(title)
    image = _background(palette, size_px, _digest(title))
    draw = ImageDraw.Draw(image)
    for line in layout_text(title, subtitle, size_px=size_px):
        drawn_in = font(line.font_px, line.face)
        left, top, _, _ = line.box
        ink_left, ink_top, _, _ = (int(edge) for edge in drawn_in.getbbox(line.text))
        draw.text((left - ink_left, top - ink_top), line.text, font=drawn_in, fill=palette.text)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=_QUALITY, optimize=False, progressive=False)
    return out.getvalue()


def generated_cover(title: str, subtitle: str = "loosen") -> Cover:
    """The cover `render_cover` makes for ``title``, as the tags carry it: from the covers'
    cache when it was made before (drawing one, with Pillow's start, takes 0.1-0.3 s, a sixth
    of a cold export; reading it back, a millisecond)."""
    size = COVER_SIZE_PX
    data = _cached_cover(title, subtitle)
    return Cover(data=data, mime=COVER_MIME, width_px=size, height_px=size)


def cover_cache_dir() -> Path:
    """``$LOOSEN_CACHE_DIR/covers`` if set, else the user cache directory's ``loosen/covers``."""
    from loosen.cache_dirs import cache_dir

    return cache_dir("covers")


def _cached_cover(title: str, subtitle: str) -> bytes:
    """The JPEG of ``title`` from the cache, or drawn and kept there. Its name is the hash of
    what makes its bytes (loosen's and Pillow's versions, the texts, the size); a file that is
    not a whole JPEG is drawn again, and a cache that cannot be written is done without."""
    from importlib.metadata import PackageNotFoundError, version

    from loosen.atomic import write_bytes_atomic
    from loosen.errors import LoosenError

    try:
        layout = "raqm" if shapes_right_to_left() else "basic"  # how text is laid out
        makers = f"{version('loosen')}\0{version('pillow')}\0{layout}\0{_DESIGN}"
    except PackageNotFoundError:  # a source tree: no version to key by, so no cache
        return render_cover(title, subtitle)
    key = hashlib.sha256(f"{makers}\0{title}\0{subtitle}\0{COVER_SIZE_PX}".encode()).hexdigest()
    path = cover_cache_dir() / f"{key[:32]}.jpg"
    try:
        data = path.read_bytes()
        if data.startswith(b"\xff\xd8") and data.endswith(b"\xff\xd9"):  # SOI ... EOI
            return data
    except OSError:
        pass
    data = render_cover(title, subtitle)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, data, what="a cover")
    except (OSError, LoosenError):
        pass  # no cache: the next export draws it again
    return data


_MIMES = {"JPEG": "image/jpeg", "PNG": "image/png"}
_DEPTHS = {"1": 1, "L": 8, "P": 8, "LA": 16, "I;16": 16, "RGB": 24, "CMYK": 32, "RGBA": 32}


def read_cover(path: Path) -> Cover:
    """The picture at ``path`` (a JPEG or PNG of at most `MAX_COVER_BYTES` bytes and
    `MAX_COVER_SIDE_PX` pixels a side), embedded as it is. `BadValueError` ("cover") naming
    the file when it cannot be read, is too big or is no such picture."""
    try:
        data = read_regular(path, MAX_COVER_BYTES, "a cover")
    except ScriptError as error:
        raise BadValueError("cover", str(path), error.message) from None
    return cover_of(data, str(path))


def cover_of(data: bytes, name: str) -> Cover:
    """``data``, a JPEG or PNG, as a cover; ``name`` names it in a `BadValueError`."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind, mode, (width, height) = image.format, image.mode, image.size
                colors = len(image.getpalette() or ()) // 3 if mode == "P" else 0
                image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadValueError("cover", name, "is not a JPEG or PNG picture") from None
    except (OSError, SyntaxError, ValueError) as error:  # Pillow's words for a broken file
        raise BadValueError("cover", name, f"is a broken picture: {error}") from None
    if kind not in _MIMES:
        raise BadValueError("cover", name, f"is a {kind} picture; use a JPEG or PNG")
    if max(width, height) > MAX_COVER_SIDE_PX:
        reason = f"is {width}x{height} px; a cover has at most {MAX_COVER_SIDE_PX} a side"
        raise BadValueError("cover", name, reason)
    return Cover(
        data=data, mime=_MIMES[kind], width_px=width, height_px=height,
        depth_bits=_DEPTHS.get(mode, 24), colors=colors,
    )  # fmt: skip


def _digest(title: str) -> bytes:
    return hashlib.sha256(title.encode("utf-8")).digest()


def _palette(title: str) -> _Palette:
    return _PALETTES[_digest(title)[0] % len(_PALETTES)]


def _background(palette: _Palette, size_px: int, digest: bytes) -> Image.Image:
    """The gradient, the rings round a low sun and the waves, softened."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    ramp = np.linspace(0.0, 1.0, size_px, dtype=np.float32)[:, None, None]
    top = np.asarray(palette.top, np.float32)
    bottom = np.asarray(palette.bottom, np.float32)
    rows = top + (bottom - top) * ramp**1.3  # lighter for longer at the top
    pixels = np.broadcast_to(rows, (size_px, size_px, 3)).round().astype(np.uint8)
    image = Image.fromarray(np.ascontiguousarray(pixels))
    overlay = Image.new("L", (size_px, size_px), 0)
    draw = ImageDraw.Draw(overlay)
    sun_x = size_px * (0.25 + 0.5 * digest[1] / 255)
    sun_y = size_px * (0.74 + 0.06 * digest[2] / 255)
    for ring in range(4):
        radius = size_px * (0.09 + 0.075 * ring)
        box = (sun_x - radius, sun_y - radius, sun_x + radius, sun_y + radius)
        draw.ellipse(box, outline=70 - 14 * ring, width=max(2, size_px // 350))
    draw.ellipse(
        (
            sun_x - size_px * 0.06,
            sun_y - size_px * 0.06,
            sun_x + size_px * 0.06,
            sun_y + size_px * 0.06,
        ),
        fill=60,
    )
    phase = digest[3] / 255 * 2 * np.pi
    xs = np.linspace(0, size_px, 80)
    for wave in range(3):
        base = size_px * (0.86 + 0.045 * wave)
        crest = size_px * 0.012 * (1 + wave * 0.4)
        ys = base + crest * np.sin(xs / size_px * 2 * np.pi * (1.5 + wave * 0.5) + phase + wave)
        points = [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]
        draw.polygon([*points, (size_px, size_px), (0, size_px)], fill=40 + 22 * wave)
    overlay = overlay.filter(ImageFilter.GaussianBlur(size_px / 400))
    accent = Image.new("RGB", (size_px, size_px), palette.accent)
    return Image.composite(accent, image, overlay.point(lambda level: level * 0.8))
