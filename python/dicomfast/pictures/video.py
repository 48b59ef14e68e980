"""A video file as DICOM keeps it (PS3.5 8.2.5-8.2.11): the file's bytes unchanged, its
transfer syntax chosen from the stream's codec, profile and level, and the frame count,
size and rate read from the stream with PyAV (the optional extra ``video``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..errors import DicomError

MPEG2_MPML = "1.2.840.10008.1.2.4.100"
MPEG2_MPHL = "1.2.840.10008.1.2.4.101"
AVC_HP41 = "1.2.840.10008.1.2.4.102"
AVC_HP42_2D = "1.2.840.10008.1.2.4.104"
AVC_STEREO_HP42 = "1.2.840.10008.1.2.4.106"
HEVC_MP51 = "1.2.840.10008.1.2.4.107"

#: codec -> Lossy Image Compression Method (0028,2114)
COMPRESSION_METHOD = {"h264": "ISO_14496_10", "hevc": "ISO_23008_2", "mpeg2video": "ISO_13818_2"}
#: Containers AVC and HEVC may come in (PS3.5 8.2.7-8.2.11: MPEG-TS or MP4); MPEG-2 any.
_AVC_CONTAINERS = ("mp4", "mov", "mpegts")
#: One fragment holds the whole stream: at most 2^32-2 bytes (PS3.5 8.2.5).
MAX_STREAM = 0xFFFFFFFE


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    container: str
    profile: int
    level: int
    rows: int
    columns: int
    frames: int
    rate: Fraction
    transfer_syntax: str


def _av(path: str) -> Any:
    try:
        import av
    except ImportError:
        raise DicomError(
            "not a PNG, TIFF or JPEG picture; reading it as video needs PyAV: "
            "pip install 'dicomfast[video]'",
            path=path,
        ) from None
    return av


def _unescape(nal: bytes) -> bytes:
    """A NAL unit without its emulation prevention bytes (00 00 03 -> 00 00)."""
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


def _nal_units(data: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream (each after its 00 00 01 start code)."""
    out = []
    parts = data.split(b"\x00\x00\x01")
    for p in parts[1:]:
        out.append(p)
    return out


def _avc_profile_level(extradata: bytes, packets: list[bytes]) -> tuple[int, int, int]:
    """(profile_idc, constraint flags, level_idc) of an H.264 stream: from the avcC record
    of an MP4, else from the first sequence parameter set of the byte stream."""
    if extradata[:1] == b"\x01" and len(extradata) >= 4:
        return extradata[1], extradata[2], extradata[3]
    for chunk in (extradata, *packets):
        for nal in _nal_units(chunk):
            if nal and nal[0] & 0x1F == 7 and len(nal) >= 4:
                return nal[1], nal[2], nal[3]
    raise DicomError("H.264: no sequence parameter set found")


def _hevc_profile_level(extradata: bytes, packets: list[bytes]) -> tuple[int, int, int]:
    """(general_profile_idc, general_tier_flag, general_level_idc) of an HEVC stream."""
    if extradata[:1] == b"\x01" and len(extradata) >= 13:
        return extradata[1] & 0x1F, (extradata[1] >> 5) & 1, extradata[12]
    for chunk in (extradata, *packets):
        for nal in _nal_units(chunk):
            if len(nal) >= 2 and (nal[0] >> 1) & 0x3F == 33:  # SPS
                sps = _unescape(nal)
                if len(sps) >= 15:
                    return sps[3] & 0x1F, (sps[3] >> 5) & 1, sps[14]
    raise DicomError("HEVC: no sequence parameter set found")


def _mpeg2_profile_level(extradata: bytes, packets: list[bytes]) -> tuple[int, int]:
    """(profile, level) of an MPEG-2 video stream, from its sequence extension."""
    for chunk in (extradata, *packets):
        for part in chunk.split(b"\x00\x00\x01")[1:]:
            if len(part) >= 3 and part[0] == 0xB5 and part[1] >> 4 == 1:
                pl = ((part[1] & 0x0F) << 4) | (part[2] >> 4)
                return (pl >> 4) & 0x07, pl & 0x0F
    raise DicomError("no MPEG-2 sequence extension found (MPEG-1 video is not taken)")


def _transfer_syntax(codec: str, container: str, profile: int, flags: int, level: int,
                     rows: int, columns: int) -> str:  # fmt: skip
    if codec == "mpeg2video":
        # profile 5 simple, 4 main; level 10 low, 8 main, 6 high-1440, 4 high (13818-2 8.1)
        if profile in (4, 5) and level in (8, 10):
            return MPEG2_MPML
        if profile == 4 and level == 4 and (rows, columns) in ((720, 1280), (1080, 1920)):
            return MPEG2_MPHL
        raise DicomError(
            f"MPEG-2 profile {profile} level {level} at {columns}x{rows}: DICOM takes Main "
            "Profile at Main Level, or at High Level in 1280x720 or 1920x1080"
        )
    if container not in _AVC_CONTAINERS:
        raise DicomError(
            f"{codec} video in a {container} container: DICOM takes MP4 or MPEG-TS; remux it "
            "without re-encoding (ffmpeg -i IN -c copy OUT.mp4)"
        )
    if codec == "h264":
        # 66 baseline (constrained: constraint_set1), 77 main, 100 high, 128 stereo high
        high_decodable = profile in (77, 100) or (profile == 66 and flags & 0x40)
        if high_decodable and level <= 41:
            return AVC_HP41
        if high_decodable and level == 42:
            return AVC_HP42_2D
        if profile == 128 and level <= 42:
            return AVC_STEREO_HP42
        raise DicomError(
            f"H.264 profile_idc {profile} level {level / 10:g}: DICOM takes High Profile "
            "(or Main, Constrained Baseline) up to Level 4.2, 8-bit 4:2:0"
        )
    if codec == "hevc":
        if profile == 1 and level <= 153:
            return HEVC_MP51
        raise DicomError(
            f"HEVC profile {profile} level {level / 30:g}: dicomfast takes Main Profile up "
            "to Level 5.1 (Main 10 needs 16-bit colour, which no Secondary Capture IOD holds)"
        )
    raise DicomError(f"{codec} video: DICOM takes MPEG-2, MPEG-4 AVC/H.264 or HEVC/H.265")


def probe(path: str | os.PathLike[str]) -> VideoInfo:
    """What DICOM needs to know of the video file at ``path``."""
    name = os.fspath(path)
    av = _av(name)
    try:
        container = av.open(name)
    except av.error.FFmpegError as e:
        raise DicomError(f"not a picture or video file PyAV reads: {e}", path=name) from None
    with container:
        if not container.streams.video:
            raise DicomError("no video stream", path=name)
        stream = container.streams.video[0]
        ctx = stream.codec_context
        codec = ctx.name
        fmt = container.format.name.split(",")
        kind = "mp4" if "mp4" in fmt or "mov" in fmt else fmt[0]
        extradata = bytes(ctx.extradata or b"")
        packets: list[bytes] = []
        count = 0
        for packet in container.demux(stream):
            if packet.size:
                count += 1
                if len(packets) < 3:
                    packets.append(bytes(packet))
        frames = stream.frames or count
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        if not rate:
            raise DicomError("the video's frame rate is unknown", path=name)
        if ctx.format is not None and ctx.format.name not in ("yuv420p", "yuvj420p"):
            raise DicomError(
                f"{ctx.format.name} video: DICOM takes 8-bit 4:2:0 (YBR_PARTIAL_420)", path=name
            )
        sar = stream.sample_aspect_ratio
        if sar and sar != 1:
            raise DicomError(f"sample aspect ratio {sar}: DICOM takes square pixels", path=name)
        rows, columns = ctx.height, ctx.width
    try:
        if codec == "h264":
            profile, flags, level = _avc_profile_level(extradata, packets)
        elif codec == "hevc":
            profile, flags, level = _hevc_profile_level(extradata, packets)
            if flags:
                raise DicomError("HEVC High tier: DICOM takes Main tier")
        elif codec == "mpeg2video":
            (profile, level), flags = _mpeg2_profile_level(extradata, packets), 0
        else:
            profile = flags = level = 0
        ts = _transfer_syntax(codec, kind, profile, flags, level, rows, columns)
    except DicomError as e:
        raise DicomError(e.message, path=name) from None
    return VideoInfo(codec, kind, profile, level, rows, columns, frames, Fraction(rate), ts)
