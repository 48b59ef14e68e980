# Type stubs for dicomfast._core, the PyO3 module built from rust/dicomfast-py.
# tests/test_core_stub.py keeps this file honest against the compiled module.

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, final

import numpy as np

__version__: str
__all__ = [
    "DataElement",
    "RawFile",
    "CharacterSet",
    "Walk",
    "DeidPass",
    "dictionary_entries",
    "uid_entries",
    "dictionary_lookup",
    "encode_png",
    "grey_table",
    "NativeCopier",
    "PictureExporter",
    "fileset_index",
    "fileset_create",
    "fileset_sources",
    "Blake3",
    "blake3_file",
    "Reassembler",
    "pdu_read",
    "pdu_peek",
    "encode_associate_rq",
    "encode_associate_ac",
    "encode_associate_rj",
    "encode_release_rq",
    "encode_release_rp",
    "encode_abort",
    "encode_pdata",
    "encode_pdvs",
    "dimse_encode",
    "dimse_decode",
    "ImageInfo",
    "decode_frames_into",
    "decode_native_into",
    "pixel_array_as_read",
    "configure_pixel_array_as_read",
    "pixel_array_from_path",
    "decode_frame",
    "encode_frame",
    "encode_frames",
    "encode_frames_encapsulated",
    "encode_frames_to_fd",
    "transfer_syntaxes",
    "transfer_syntax",
    "jpeg_header",
    "__version__",
]

# PyO3 classes cannot be subclassed: @final.

@final
class CharacterSet:
    def __new__(cls, terms: list[str]) -> CharacterSet: ...
    @property
    def terms(self) -> list[str]: ...
    @property
    def warnings(self) -> list[str]: ...
    def decode(self, data: bytes, vr: str) -> str: ...
    def encode(self, text: str, vr: str) -> bytes: ...

@final
class Walk:
    def __new__(cls, dataset: Any) -> Walk: ...
    def __iter__(self) -> Walk: ...
    def __next__(self) -> DataElement: ...

@final
class DataElement:
    tag: int
    VR: str
    value: Any
    def __new__(
        cls,
        tag: int,
        VR: str,  # noqa: N803
        value: Any,
        *,
        _node: int = -1,
        _length: int | None = None,
        _src: Any = None,
    ) -> DataElement: ...
    @property
    def _node(self) -> int: ...
    @property
    def _length(self) -> int | None: ...
    @property
    def _src(self) -> Any: ...
    @property
    def vr(self) -> str: ...
    @property
    def keyword(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def is_raw(self) -> bool: ...
    @property
    def VM(self) -> int: ...  # noqa: N802 - pydicom's name
    @property
    def length(self) -> int: ...
    def repval(self) -> str: ...

@final
class RawFile:
    @staticmethod
    def parse(
        source: Any, stop_before_pixels: bool = False, partial: bool = False, max_depth: int = 256
    ) -> RawFile: ...
    @property
    def source(self) -> Any: ...
    @property
    def transfer_syntax(self) -> str: ...
    @property
    def explicit_vr(self) -> bool: ...
    @property
    def big_endian(self) -> bool: ...
    @property
    def deflated(self) -> bool: ...
    @property
    def has_preamble(self) -> bool: ...
    @property
    def dataset_offset(self) -> int: ...
    @property
    def meta_nodes(self) -> int: ...
    @property
    def error(self) -> tuple[str, int, int | None] | None: ...
    def __len__(self) -> int: ...
    def index_nbytes(self) -> int: ...
    def child_map(self, parent: int) -> dict[int, int]: ...
    def children(self, parent: int) -> list[int]: ...
    def find(self, parent: int, tags: Sequence[int]) -> list[tuple[int, bool, Any] | None]: ...
    def level(
        self,
        parent: int,
        owner: Any,
        charset: CharacterSet | None = None,
        pixel_representation: int = 0,
        bits_allocated: int = 16,
        deep: bool = False,
    ) -> tuple[dict[int, DataElement], list[int], CharacterSet | None]: ...
    def element(self, i: int, owner: Any) -> DataElement: ...
    def enclosing(self, i: int) -> int: ...
    def node_info(self, i: int) -> tuple[int, str, int, int, int, int, int]: ...
    def tag(self, i: int) -> int: ...
    def vr(self, i: int) -> str: ...
    def value(self, i: int, charset: CharacterSet | None = None, vr: str | None = None) -> Any: ...
    def values(self, nodes: list[int], charset: CharacterSet | None = None) -> list[Any]: ...
    def text_attributes_json(
        self,
        parent: int = -1,
        charset_terms: list[str] | None = None,
        max_depth: int = 4,
        max_text: int = 4096,
    ) -> str: ...
    def value_bytes_of(self, i: int) -> bytes: ...
    def encode(
        self, nodes: list[int], explicit_vr: bool, big_endian: bool, pixel_representation: int = 0
    ) -> bytes: ...
    def encode_parts(
        self,
        nodes: list[int],
        explicit_vr: bool,
        big_endian: bool,
        pixel_representation: int = 0,
        min_reference: int = 65536,
    ) -> list[bytes | memoryview]: ...
    def frame_fragments(
        self, i: int, number_of_frames: int, extended_offsets: int | None = None
    ) -> list[list[tuple[int, int]]]: ...

@final
class DeidPass:
    def __new__(
        cls,
        actions: dict[int, str],
        masked: list[tuple[int, int, str]],
        private: str,
        overlay: str,
        key: bytes,
        method_codes: list[tuple[str, str, str]],
        temporal_state: str,
        implementation: tuple[str, str],
        dummies: dict[str, bytes],
        text_vrs: list[str],
        code_tags: list[int],
        min_scrub: int,
    ) -> DeidPass: ...
    def map_uid(self, uid: str) -> str: ...
    def run(
        self,
        raw: RawFile,
        transfer_syntax: str,
        explicit_vr: bool,
        big_endian: bool,
        patient_id: str,
        patient_name: str,
        offset_days: int,
    ) -> tuple[list[bytes | memoryview], str | None, str | None, str | None] | str: ...

def dictionary_entries() -> list[tuple[int, str, str, str, str, bool, int]]: ...
def dictionary_lookup(tag: int) -> tuple[int, str, str, str, str, str, bool] | None: ...
def uid_entries() -> list[tuple[str, str, str, str, bool, str, bool]]: ...

# dicomfast.pixel_limits.CORE_LIMITS: (max_ratio, unbounded_ratio, unbounded syntaxes,
# frame_slack, max_frames)
_Limits = tuple[int, int, set[str], int, int]

# -- pictures for `dicomfast export` (rust/dicomfast-py/src/pictures.rs) ----------
def encode_png(data: Any, rows: int, columns: int, samples: int, bits: int) -> bytes: ...
def grey_table(
    bytes: int,
    signed: bool,
    bits_stored: int,
    rescale: tuple[float, float] | None,
    center: float,
    width: float,
    exact: bool,
    user_window: bool,
    monochrome1: bool,
    bits: int,
) -> bytes | None: ...

# (status, dst, bytes_out, frames, staged (temporary, final) names, seconds)
_Taken = tuple[str, str, int, int, list[tuple[str, str]], float]

@final
class PictureExporter:
    def __new__(
        cls,
        format: str,
        values: str,
        bits: int,
        window: tuple[float, float] | None,
        voi_index: int,
        resume: bool,
        durable: bool,
        limits: _Limits,
        read_whole_below: int,
    ) -> PictureExporter: ...
    def export(self, path: str, base: str) -> _Taken | None: ...

# -- convert -t explicit-le by the core (rust/dicomfast-py/src/native_copy.rs) ----
@final
class NativeCopier:
    def __new__(
        cls,
        resume: bool,
        durable: bool,
        limits: _Limits,
        read_whole_below: int,
    ) -> NativeCopier: ...
    # (bytes_out, staged temporary file or None, seconds), or None: declined
    def convert(self, path: str, dst: str) -> tuple[int, str | None, float] | None: ...
    def native_file(self, data: Any) -> bytes | None: ...

# -- checksums (rust/dicomfast-py/src/digest.rs) ------------------------------
@final
class Blake3:
    def __new__(cls) -> Blake3: ...
    def update(self, data: Any) -> None: ...
    def hexdigest(self) -> str: ...

def blake3_file(path: str | os.PathLike[str]) -> str: ...

# -- file-sets (rust/dicomfast-py/src/media.rs) -------------------------------

# RECORD_KEYS, RECORD_TYPE_OF_CLASS, ROOT_TYPES, IDENTIFIER's (level, tag) pairs
_MediaTables = tuple[
    dict[str, tuple[tuple[int, str, str], ...]],
    dict[str, str],
    list[str],
    list[tuple[str, int]],
]
# File-set UID, File-set ID, Implementation Class UID, Implementation Version Name
_MediaFront = tuple[str, str, str, str]

def fileset_index(
    root: str, tables: _MediaTables, front: _MediaFront, threads: int
) -> tuple[bytes, list[str], list[tuple[list[str], BaseException | None]]]: ...
def fileset_create(
    sources: list[str],
    out: str,
    tables: _MediaTables,
    naming: tuple[dict[str, str], dict[str, str]],
    front: _MediaFront,
    threads: int,
) -> tuple[bytes, list[str], tuple[int, BaseException] | None]: ...
def fileset_sources(paths: list[str]) -> list[str]: ...

# -- network framing (rust/dicomfast-py/src/pdu.rs) --------------------------

@final
class Reassembler:
    # max_message_len: the largest reassembled message (default: no limit, usize::MAX)
    def __new__(cls, max_message_len: int = ...) -> Reassembler: ...
    @property
    def is_idle(self) -> bool: ...
    def push(self, pc_id: int, is_command: bool, is_last: bool, data: Any) -> Any: ...
    def reset(self) -> None: ...

def pdu_peek(buf: Any, max_pdu_len: int = 0) -> Any: ...
def pdu_read(buf: Any, offset: int = 0, max_pdu_len: int = 0) -> tuple[int, int, Any]: ...
def encode_associate_rq(
    called_ae_title: str,
    calling_ae_title: str,
    presentation_contexts: Sequence[Any],
    user_information: Any,
    application_context: str = ...,
    protocol_version: int = 1,
) -> bytes: ...
def encode_associate_ac(
    called_ae_title: str,
    calling_ae_title: str,
    presentation_contexts: Sequence[Any],
    user_information: Any,
    application_context: str = ...,
    protocol_version: int = 1,
) -> bytes: ...
def encode_associate_rj(result: int, source: int, reason: int) -> bytes: ...
def encode_release_rq() -> bytes: ...
def encode_release_rp() -> bytes: ...
def encode_abort(source: int = 0, reason: int = 0) -> bytes: ...
def encode_pdata(
    pc_id: int,
    is_command: bool,
    body: Any,
    max_pdu_len: int,
    last: bool = True,
    as_list: bool = False,
) -> Any: ...
def encode_pdvs(pdvs: Sequence[Any]) -> bytes: ...
def dimse_encode(elements: Mapping[int, Any] | Sequence[tuple[int, Any]]) -> bytes: ...
def dimse_decode(buf: Any) -> dict[int, Any]: ...

# -- pixel codecs (rust/dicomfast-py/src/pixels.rs) ---------------------------

@final
class ImageInfo:
    """One frame's layout, checked against the codecs' rules when made."""

    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    planar_configuration: int
    float: bool
    frame_nbytes: int
    def __new__(
        cls,
        rows: int,
        columns: int,
        samples_per_pixel: int = 1,
        bits_allocated: int = 8,
        bits_stored: int | None = None,
        pixel_representation: int = 0,
        planar_configuration: int = 0,
        float: bool = False,
    ) -> ImageInfo: ...

_SyntaxRow = tuple[str, str, str, bool, bool, bool, bool, bool, str | None, bool, bool]

def transfer_syntaxes() -> list[_SyntaxRow]: ...
def transfer_syntax(uid: str) -> _SyntaxRow: ...
def jpeg_header(data: Any) -> dict[str, Any]: ...
def decode_frame(data: Any, info: ImageInfo, transfer_syntax: str) -> bytes: ...
def decode_frames_into(
    source: Any,
    frames: Sequence[Any],
    out: np.ndarray,
    transfer_syntax: str,
    info: ImageInfo,
    threads: int | None = None,
    first_frame: int = 0,
    sink_fd: int | None = None,
) -> None: ...
def pixel_array_as_read(
    raw: RawFile,
    parent: int = ...,
    meta: int | None = None,
    threads: int | None = None,
    as_rgb: bool = False,
) -> np.ndarray | None: ...
def pixel_array_from_path(
    path: str, threads: int | None = None, as_rgb: bool = False
) -> np.ndarray | None: ...
def configure_pixel_array_as_read(
    limits: _Limits,
    read_whole_below: int,
    empty: Any,
    dtypes: list[Any],
) -> None: ...
def decode_native_into(
    data: Any,
    out: np.ndarray,
    info: ImageInfo,
    big_endian: bool = False,
    ybr422: bool = False,
    first_frame: int = 0,
    threads: int | None = None,
) -> None: ...
def encode_frame(
    data: Any,
    info: ImageInfo,
    transfer_syntax: str,
    predictor: int = 1,
    *,
    quality: int = 90,
    max_error: int = 0,
    ratio: int = 10,
    colour_transform: bool = False,
) -> bytes: ...
def encode_frames(
    data: Any,
    info: ImageInfo,
    transfer_syntax: str,
    predictor: int = 1,
    threads: int | None = None,
    *,
    quality: int = 90,
    max_error: int = 0,
    ratio: int = 10,
    colour_transform: bool = False,
) -> list[bytes]: ...
def encode_frames_encapsulated(
    data: Any,
    info: ImageInfo,
    transfer_syntax: str,
    allocate: Callable[[int], Any],
    predictor: int = 1,
    threads: int | None = None,
    *,
    quality: int = 90,
    max_error: int = 0,
    ratio: int = 10,
    colour_transform: bool = False,
) -> Any: ...
def encode_frames_to_fd(
    data: Any,
    info: ImageInfo,
    transfer_syntax: str,
    fd: int,
    predictor: int = 1,
    threads: int | None = None,
    *,
    quality: int = 90,
    max_error: int = 0,
    ratio: int = 10,
    colour_transform: bool = False,
) -> int: ...
