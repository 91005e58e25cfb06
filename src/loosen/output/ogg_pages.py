"""A stable stream serial number for an Ogg file, so that the same export gives the same bytes.

libsndfile draws an Ogg stream's serial number at random, so two exports of one session differ
in every page header (the serial and each page's CRC). Once the file is written, its serial is
set to a number worked out from its packets, and every page's CRC is computed again (mutagen
writes the page; the page's length does not change, so it is rewritten in place).
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

__all__ = ["stabilize_serial"]


def stabilize_serial(path: Path) -> int:
    """Give every page of the Ogg file at ``path`` one serial number drawn from its content
    (the first pages' packets); return it. The file must hold one logical stream."""
    from mutagen import ogg

    read_page: Any = ogg.OggPage  # unannotated
    with path.open("r+b") as handle:
        pages: list[Any] = []
        while True:
            try:
                pages.append(read_page(handle))
            except EOFError:
                break
        if not pages:
            return 0
        digest = 0
        for page in pages[:3]:  # the headers and the first audio: they name the stream
            for packet in page.packets:
                digest = zlib.crc32(packet, digest)
        serial = digest & 0x7FFFFFFF
        for page in pages:
            if page.serial == serial:
                continue
            page.serial = serial
            data: bytes = page.write()
            handle.seek(int(page.offset))
            handle.write(data)
    return serial
