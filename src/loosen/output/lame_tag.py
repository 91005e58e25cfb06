"""The info frame that opens an MP3 stream: a Xing header with a LAME extension.

An MP3 file is a run of frames with nothing that says how long it is. A VBR file without an
info frame has its duration guessed from its first frame's bitrate (wrong by as much as the
bitrate varies), no table to seek by, and no word of the encoder's delay and padding, so a
decoder plays 1105 samples of silence first (LAME's 576 and the decoder's own 529) and a little
more at the end: chapters and captions then lag the audio by 23 ms. The info frame is a frame
of the stream's own version, sample rate and channel mode that holds no audio: ``Xing`` (VBR),
the count of audio frames and of the stream's bytes (the info frame's own included), a
100-entry table of contents (the byte position at each percent of the duration, in 256ths),
a VBR quality, then LAME's extension: the encoder delay and padding in 12 bits each, the
length and CRC-16 of the stream, and a CRC-16 of the tag itself, which readers check
(ffmpeg takes the ``encoder`` name and the ReplayGain fields only when it matches).

Written here because `lameenc`, the encoder, cannot write it: it turns the tag off
(``lame_set_bWriteVbrTag(0)``) and has no call that returns LAME's own. `StreamLog` reads the
frame headers as the encoder hands its bytes over and keeps what the tag needs (in bounded
memory: the table of contents is made from at most `_MAX_SEEK_POINTS` positions), and
`info_frame` builds the frame to write in the room kept for it at the start of the file. What
LAME would say and we cannot know (its low-pass, ATH type, noise shaping, preset) is written
as 0, which the format defines as "unknown". References: the Xing and LAME tag layouts as
LAME's VbrTag.c writes them and ffmpeg's and mutagen's MP3 readers read them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "ENCODER_VERSION",
    "FrameHeader",
    "StreamLog",
    "crc16",
    "info_frame",
    "supported_rates_hz",
    "tag_frame_bytes",
]

ENCODER_VERSION = b"LAME3.100"  # the library lameenc bundles; readers key on "LAME"
_VERSIONS = {3: "1", 2: "2", 0: "2.5"}  # the header's version bits; 1 is reserved
_RATES_HZ = {"1": (44100, 48000, 32000), "2": (22050, 24000, 16000), "2.5": (11025, 12000, 8000)}
_KBPS = {  # Layer III bitrates by index (0: free format, which LAME does not write)
    "1": (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    "2": (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
# LAME puts its VBR tag in a frame of 128 kbps (MPEG 1), 64 (MPEG 2) or 32 (MPEG 2.5): big
# enough for the tag at every sample rate of the version
_TAG_KBPS = {"1": 128, "2": 64, "2.5": 32}
_XING_FLAGS = 0x0F  # frames, bytes, table of contents, VBR quality
_MAX_SEEK_POINTS = 512  # frame positions kept for the table of contents


def supported_rates_hz() -> list[int]:
    """The sample rates an MP3 stream can have, in Hz, ascending."""
    return sorted(rate for rates in _RATES_HZ.values() for rate in rates)


@dataclass(frozen=True)
class FrameHeader:
    """An MPEG audio Layer III frame header: ``version`` "1", "2" or "2.5", ``sample_rate`` in
    Hz, ``kbps``, ``mode`` (0 stereo, 1 joint stereo, 2 dual channel, 3 mono), the frame's
    length in bytes, and ``raw``: the four bytes as a big-endian integer."""

    raw: int
    version: str
    sample_rate: int
    kbps: int
    mode: int
    frame_bytes: int

    @classmethod
    def parse(cls, raw: int) -> FrameHeader:
        """The header whose four bytes are ``raw`` (big-endian); `ValueError` if it is none."""
        version = _VERSIONS.get(raw >> 19 & 3)
        rate_index, kbps_index = raw >> 10 & 3, raw >> 12 & 15
        if raw >> 21 != 0x7FF or version is None or raw >> 17 & 3 != 1:
            raise ValueError(f"not an MPEG Layer III frame header: {raw:08x}")
        if rate_index == 3 or kbps_index in (0, 15):
            raise ValueError(f"an MP3 frame header with a reserved field: {raw:08x}")
        rate = _RATES_HZ[version][rate_index]
        kbps = _KBPS["1" if version == "1" else "2"][kbps_index]
        per_kbps = 144_000 if version == "1" else 72_000  # bytes per kbps per Hz of a frame
        frame_bytes = per_kbps * kbps // rate + (raw >> 9 & 1)
        return cls(raw, version, rate, kbps, raw >> 6 & 3, frame_bytes)

    @property
    def samples_per_frame(self) -> int:
        return 1152 if self.version == "1" else 576

    @property
    def side_info_bytes(self) -> int:
        """The length of the side information after the header (where a Xing header goes)."""
        mono = self.mode == 3
        if self.version == "1":
            return 17 if mono else 32
        return 9 if mono else 17


def tag_frame_bytes(sample_rate: int) -> int:
    """The length in bytes of the info frame of a stream at ``sample_rate`` Hz."""
    version = next(v for v, rates in _RATES_HZ.items() if sample_rate in rates)
    return (144_000 if version == "1" else 72_000) * _TAG_KBPS[version] // sample_rate


class StreamLog:
    """What the info frame needs to know of a stream, read from its bytes as they pass: the
    first frame's header, the number of frames and bytes, the lowest bitrate, positions for
    the table of contents, and the CRC-16 of every byte.

    ``feed`` takes the stream in pieces of any size, in order (a header may straddle two)."""

    def __init__(self) -> None:
        self.first: FrameHeader | None = None
        self.frames = 0
        self.bytes = 0
        self.lowest_kbps = 0
        self.crc = 0
        self.seek_step = 1  # a position is kept for every this many frames
        self.seek_points: list[int] = []  # byte offsets of frames 0, step, 2 step, ...
        self._skip = 0  # bytes to pass before the next header
        self._carry = b""  # the start of a header cut off by the end of the last piece
        self._unsummed = bytearray()  # bytes not yet added to the CRC
        self._headers: dict[int, FrameHeader] = {}  # by their bytes: a stream has a few dozen

    def feed(self, data: bytes | bytearray) -> None:
        """Read the next ``data`` of the stream."""
        self._unsummed += data
        if len(self._unsummed) >= 2**20:  # in large pieces: the CRC is vectorized
            self.crc = crc16(bytes(self._unsummed), self.crc)
            self._unsummed.clear()
        piece = self._carry + bytes(data) if self._carry else data
        start, at = self.bytes - len(self._carry), self._skip
        headers = self._headers
        while at + 4 <= len(piece):
            raw = int.from_bytes(piece[at : at + 4], "big")
            header = headers.get(raw)
            if header is None:
                header = headers[raw] = FrameHeader.parse(raw)
                if self.first is None:
                    self.first = header
                elif (raw ^ self.first.raw) & 0xFFFE0CC0:  # version, layer, rate, mode
                    raise ValueError("the MP3 encoder changed its stream's format midway")
                self.lowest_kbps = min(self.lowest_kbps or header.kbps, header.kbps)
            if self.frames % self.seek_step == 0:
                self._keep_seek_point(start + at)
            self.frames += 1
            at += header.frame_bytes
        self._carry = bytes(piece[at:]) if at < len(piece) else b""
        self._skip = max(0, at - len(piece))
        self.bytes += len(data)

    def finish(self) -> None:
        """The stream has ended: check that it ended on a frame's end, and sum the last bytes."""
        self.crc = crc16(bytes(self._unsummed), self.crc)
        self._unsummed.clear()
        if self._carry or self._skip:
            raise ValueError("the MP3 stream ends inside a frame")

    def _keep_seek_point(self, offset: int) -> None:
        if len(self.seek_points) == _MAX_SEEK_POINTS:
            del self.seek_points[1::2]  # keep every other one, and from now on half as many
            self.seek_step *= 2
            if self.frames % self.seek_step:
                return
        self.seek_points.append(offset)

    def table_of_contents(self) -> bytes:
        """100 bytes: entry i is the byte offset (in 256ths of the stream) of the frame where
        i percent of the duration has passed. Taken from the kept positions, the frame at or
        before it: off by at most ``seek_step`` frames (under 1/256 of the frames), so within
        two 256ths of the stream unless the bitrate varies more than twofold."""
        entries = []
        for percent in range(100):
            frame = percent * self.frames // 100
            offset = self.seek_points[frame // self.seek_step] if self.seek_points else 0
            entries.append(min(255, 256 * offset // max(1, self.bytes)))
        return bytes(entries)


def info_frame(
    log: StreamLog, *, samples: int, delay: int, vbr_quality: int, algorithm_quality: int
) -> bytes:
    """The info frame for the stream ``log`` has read, to put before its first frame.

    ``samples``: frames of audio the encoder was given (per channel); ``delay``: the samples
    the encoder put before them (LAME: 576); ``vbr_quality`` (LAME's -V, 0 best to 9) and
    ``algorithm_quality`` (its -q, 0 slowest to 9) make the Xing header's quality field as
    LAME computes it. The padding is what the frames hold past the delay and the samples; a
    stream whose delay or padding do not fit LAME's 12 bits raises `ValueError`.
    """
    first = log.first
    if first is None:
        raise ValueError("an MP3 stream without frames has no info frame")
    padding = log.frames * first.samples_per_frame - delay - samples
    if not (0 <= delay < 4096 and 0 <= padding < 4096):
        raise ValueError(f"encoder delay {delay} and padding {padding} do not fit the LAME tag")
    size = tag_frame_bytes(first.sample_rate)
    kbps_index = _KBPS["1" if first.version == "1" else "2"].index(_TAG_KBPS[first.version])
    # the first frame's header with the tag's bitrate, no CRC, no padding, no mode extension
    raw = (first.raw & ~0x0001F230) | 0x00010000 | kbps_index << 12
    total_bytes = size + log.bytes
    xing = struct.pack(">4sIII", b"Xing", _XING_FLAGS, log.frames, total_bytes)
    xing += log.table_of_contents() + struct.pack(">I", 100 - 10 * vbr_quality - algorithm_quality)
    stereo_mode = {0: 1, 1: 3, 2: 2, 3: 0}[first.mode]  # LAME numbers them otherwise
    source_rate = 0 if first.sample_rate <= 32000 else 1 if first.sample_rate == 44100 else 2
    lame = ENCODER_VERSION + struct.pack(
        ">BBIHHBB",
        0x04,  # tag revision 0, VBR method 4: LAME's vbr_mtrh ("VBR new")
        0,  # low-pass: unknown
        0,  # peak amplitude: unknown
        0,  # radio ReplayGain: not set
        0,  # audiophile ReplayGain: not set
        0,  # encoding flags and ATH type: unknown
        min(255, log.lowest_kbps),  # for VBR: the lowest bitrate
    )
    lame += (delay << 12 | padding).to_bytes(3, "big")
    lame += struct.pack(
        ">BBHIH", stereo_mode << 2 | source_rate << 6, 0, 0, total_bytes, log.crc
    )  # misc (stereo mode, source rate), MP3 gain, surround and preset, length, music CRC
    frame = raw.to_bytes(4, "big") + bytes(first.side_info_bytes) + xing + lame
    frame += crc16(frame).to_bytes(2, "big")  # of every byte of the frame before it
    if len(frame) > size:
        raise ValueError("the LAME tag does not fit its frame")
    return frame + bytes(size - len(frame))


def _crc_table() -> npt.NDArray[np.uint16]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = crc >> 1 ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return np.array(table, np.uint16)


_CRC_TABLE = _crc_table()
_CRC_LIST = [int(value) for value in _CRC_TABLE]
_CRC_LANE_BYTES = 1024  # bytes each lane of the vectorized CRC runs through


def crc16(data: bytes, crc: int = 0) -> int:
    """The CRC-16 LAME uses (polynomial 0x8005, reflected; CRC-16/ARC) of ``data``, continuing
    from ``crc`` (the CRC of what came before it).

    A CRC runs byte after byte, which is slow in Python; but from a zero start it is linear,
    and zero bytes in front change nothing. So ``data`` is cut into lanes of
    `_CRC_LANE_BYTES`, all run at once by numpy from zero, then folded together: the CRC of
    ``a + b`` is that of ``a`` carried over ``len(b)`` zero bytes, XOR that of ``b``.
    """
    if len(data) < 4 * _CRC_LANE_BYTES:
        for byte in data:
            crc = crc >> 8 ^ _CRC_LIST[(crc ^ byte) & 0xFF]
        return crc
    lanes = -(-len(data) // _CRC_LANE_BYTES)
    padded = np.zeros(lanes * _CRC_LANE_BYTES, np.uint8)
    padded[len(padded) - len(data) :] = np.frombuffer(data, np.uint8)
    columns = padded.reshape(lanes, _CRC_LANE_BYTES).T.copy()  # a lane's next byte: a row
    sums = np.zeros(lanes, np.uint16)
    for row in columns:
        sums = (sums >> 8) ^ _CRC_TABLE[(sums ^ row) & 0xFF]
    carry = _carried(_CRC_LANE_BYTES)
    total = _apply(_carried(len(data)), crc)
    front = _apply(carry, 0)
    for lane_crc in sums.tolist():
        front = _apply(carry, front) ^ lane_crc
    return total ^ front


def _apply(operator: tuple[int, ...], crc: int) -> int:
    """``operator`` (the images of the 16 bits) applied to ``crc``: a linear map over GF(2)."""
    result = 0
    for bit, image in enumerate(operator):
        if crc >> bit & 1:
            result ^= image
    return result


def _carried(count: int) -> tuple[int, ...]:
    """The linear map that carries a CRC over ``count`` zero bytes, by repeated squaring."""
    step = tuple(_CRC_LIST[1 << bit & 0xFF] ^ (1 << bit) >> 8 for bit in range(16))  # one byte
    result = tuple(1 << bit for bit in range(16))  # the identity
    while count:
        if count & 1:
            result = tuple(_apply(step, image) for image in result)
        step = tuple(_apply(step, image) for image in step)
        count >>= 1
    return result
