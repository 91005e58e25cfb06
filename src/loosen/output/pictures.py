"""A cover as each format holds it (the ID3 ``APIC`` frame is `loosen.output.id3v2`'s).

FLAC's ``PICTURE`` metadata block; in Ogg (Vorbis, Opus) the same block, base64-encoded, as the
``METADATA_BLOCK_PICTURE`` comment, as Xiph's Vorbis comment notes recommend and ffmpeg, VLC
and mutagen read; MP4's ``covr`` atom. Each is the front cover (picture type 3), with no
description.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loosen.plan.chapters import Cover

__all__ = ["FRONT_COVER", "flac_picture", "mp4_cover", "vorbis_picture"]

FRONT_COVER = 3  # the picture type "Cover (front)" of ID3 and FLAC


def flac_picture(cover: Cover) -> Any:
    """``cover`` as a FLAC picture block (`mutagen.flac.Picture`)."""
    from mutagen import flac

    making: Any = flac.Picture  # unannotated
    picture: Any = making()
    picture.type = FRONT_COVER
    picture.mime = cover.mime
    picture.desc = ""
    picture.width, picture.height = cover.width_px, cover.height_px
    picture.depth, picture.colors = cover.depth_bits, cover.colors
    picture.data = cover.data
    return picture


def vorbis_picture(cover: Cover) -> str:
    """``cover`` as the value of an Ogg file's ``METADATA_BLOCK_PICTURE`` comment: a FLAC
    picture block in base64."""
    block: bytes = flac_picture(cover).write()
    return base64.b64encode(block).decode("ascii")


def mp4_cover(cover: Cover) -> Any:
    """``cover`` as an item of an MP4's ``covr`` atom (`mutagen.mp4.MP4Cover`)."""
    from mutagen import mp4

    making: Any = mp4.MP4Cover  # unannotated
    kind = making.FORMAT_PNG if cover.mime == "image/png" else making.FORMAT_JPEG
    return making(cover.data, imageformat=kind)
