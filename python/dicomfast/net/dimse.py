"""DIMSE messages (PS3.7 §9): command elements, status values and the
streaming reassembly of P-DATA-TF PDVs into messages.

Command sets are encoded and decoded by the Rust core (``_core.dimse_encode``
/ ``dimse_decode``).  Data set fragments are not collected here: each one is
handed to a *sink* (a temporary file for the Storage SCP) as it arrives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .. import _core
from ..errors import PduError

# Command Field values (PS3.7 Table E.1-1).
C_STORE_RQ = 0x0001
C_STORE_RSP = 0x8001
C_ECHO_RQ = 0x0030
C_ECHO_RSP = 0x8030
C_GET_RQ = 0x0010
C_GET_RSP = 0x8010
C_FIND_RQ = 0x0020
C_FIND_RSP = 0x8020
C_MOVE_RQ = 0x0021
C_MOVE_RSP = 0x8021
C_CANCEL_RQ = 0x0FFF
N_EVENT_REPORT_RQ = 0x0100
N_EVENT_REPORT_RSP = 0x8100
N_GET_RQ = 0x0110
N_GET_RSP = 0x8110
N_SET_RQ = 0x0120
N_SET_RSP = 0x8120
N_ACTION_RQ = 0x0130
N_ACTION_RSP = 0x8130
N_CREATE_RQ = 0x0140
N_CREATE_RSP = 0x8140
N_DELETE_RQ = 0x0150
N_DELETE_RSP = 0x8150

# Command elements (group 0000).
AFFECTED_SOP_CLASS_UID = 0x00000002
REQUESTED_SOP_CLASS_UID = 0x00000003
COMMAND_FIELD = 0x00000100
MESSAGE_ID = 0x00000110
MESSAGE_ID_BEING_RESPONDED_TO = 0x00000120
MOVE_DESTINATION = 0x00000600
PRIORITY = 0x00000700
COMMAND_DATA_SET_TYPE = 0x00000800
STATUS = 0x00000900
OFFENDING_ELEMENT = 0x00000901
ERROR_COMMENT = 0x00000902
AFFECTED_SOP_INSTANCE_UID = 0x00001000
REQUESTED_SOP_INSTANCE_UID = 0x00001001
EVENT_TYPE_ID = 0x00001002
ATTRIBUTE_IDENTIFIER_LIST = 0x00001005
ACTION_TYPE_ID = 0x00001008
NUMBER_OF_REMAINING_SUBOPERATIONS = 0x00001020
NUMBER_OF_COMPLETED_SUBOPERATIONS = 0x00001021
NUMBER_OF_FAILED_SUBOPERATIONS = 0x00001022
NUMBER_OF_WARNING_SUBOPERATIONS = 0x00001023
MOVE_ORIGINATOR_AET = 0x00001030
MOVE_ORIGINATOR_MESSAGE_ID = 0x00001031

NO_DATA_SET = 0x0101
DATA_SET_PRESENT = 0x0001

# Status values (PS3.7 Annex C and B.2 / C.1 of PS3.4).
SUCCESS = 0x0000
PENDING = 0xFF00
PENDING_WARNING = 0xFF01
CANCEL = 0xFE00
WARNING_COERCION = 0xB000
WARNING_ELEMENTS_DISCARDED = 0xB006
WARNING_SOP_CLASS_MISMATCH = 0xB007
REFUSED_OUT_OF_RESOURCES = 0xA700
ERROR_DATASET_MISMATCH = 0xA900
ERROR_CANNOT_UNDERSTAND = 0xC000
PROCESSING_FAILURE = 0x0110
UNRECOGNIZED_OPERATION = 0x0211
SOP_CLASS_NOT_SUPPORTED = 0x0122

#: Command sets are small; refuse absurd ones.
MAX_COMMAND_LEN = 1 << 20


def status_category(status: int) -> str:
    """``Success``, ``Warning``, ``Failure``, ``Cancel`` or ``Pending`` (PS3.7 Annex C)."""
    if status == 0x0000:
        return "Success"
    if status in (0xFF00, 0xFF01):
        return "Pending"
    if status == 0xFE00:
        return "Cancel"
    if status in (0x0001, 0x0107, 0x0116) or 0xB000 <= status <= 0xBFFF:
        return "Warning"
    return "Failure"


class Status:
    """A DIMSE response status, shaped like pynetdicom's status ``Dataset``.

    Truthy when a response arrived (``if status:`` as in pynetdicom, also for
    a failure code); the code is ``status.Status`` (``None`` for the empty,
    falsy status of "no response").  ``int(status)`` gives the code, and a
    status still compares, orders, hashes and formats like its code
    (``status == 0``, ``0xB000 <= status``, ``f"{status:04X}"``) so code that
    used the former ``int`` subclass keeps its meaning.  Also
    ``.ErrorComment``, ``.OffendingElement``, ``.category`` and ``.command``
    (every element of the response command set), ``"ErrorComment" in status``
    and ``status.get("ErrorComment")``.

    Changed from earlier releases: ``Status`` is no longer an ``int``, so
    ``if status:`` / ``if not status:`` test "a response arrived", not
    "non-zero code": write ``if status.Status != 0`` (or ``status != 0``).
    """

    __slots__ = ("_code", "command")
    _code: int | None
    command: dict[int, Any]

    _KEYWORDS = {
        "Status": STATUS,
        "ErrorComment": ERROR_COMMENT,
        "OffendingElement": OFFENDING_ELEMENT,
        "AffectedSOPClassUID": AFFECTED_SOP_CLASS_UID,
        "AffectedSOPInstanceUID": AFFECTED_SOP_INSTANCE_UID,
        "MessageIDBeingRespondedTo": MESSAGE_ID_BEING_RESPONDED_TO,
        "NumberOfRemainingSuboperations": NUMBER_OF_REMAINING_SUBOPERATIONS,
        "NumberOfCompletedSuboperations": NUMBER_OF_COMPLETED_SUBOPERATIONS,
        "NumberOfFailedSuboperations": NUMBER_OF_FAILED_SUBOPERATIONS,
        "NumberOfWarningSuboperations": NUMBER_OF_WARNING_SUBOPERATIONS,
        "EventTypeID": EVENT_TYPE_ID,
        "ActionTypeID": ACTION_TYPE_ID,
    }

    def __init__(
        self, value: int | Status | None = None, command: dict[int, Any] | None = None
    ) -> None:
        if isinstance(value, Status):
            command = value.command if command is None else command
            value = value._code
        self._code = None if value is None else int(value)
        self.command = dict(command) if command else {}
        if self._code is not None:
            self.command.setdefault(STATUS, self._code)

    @classmethod
    def empty(cls) -> Status:
        """The falsy status of "no response" (pynetdicom's empty ``Dataset``)."""
        return cls(None)

    # -- pynetdicom / pydicom Dataset shape -------------------------------------
    def __bool__(self) -> bool:
        return self._code is not None

    @property
    def Status(self) -> int | None:  # noqa: N802 - pydicom/pynetdicom spelling
        return self._code

    @property
    def ErrorComment(self) -> str | None:  # noqa: N802
        return self.command.get(ERROR_COMMENT)

    @property
    def OffendingElement(self) -> Any:  # noqa: N802
        return self.command.get(OFFENDING_ELEMENT)

    def __getattr__(self, name: str) -> Any:
        tag = Status._KEYWORDS.get(name)
        if tag is None or tag not in self.command:
            raise AttributeError(name)
        return self.command[tag]

    def _tag(self, key: str | int) -> int | None:
        return Status._KEYWORDS.get(key) if isinstance(key, str) else key

    def __contains__(self, key: str | int) -> bool:
        return self._tag(key) in self.command

    def get(self, key: str | int, default: Any = None) -> Any:
        return self.command.get(self._tag(key), default)  # type: ignore[arg-type]

    @property
    def category(self) -> str:
        return "" if self._code is None else status_category(self._code)

    @property
    def is_success(self) -> bool:
        return self._code == 0

    @property
    def is_failure(self) -> bool:
        return self.category == "Failure"

    # -- the code, as an int -----------------------------------------------------
    def _int(self) -> int:
        if self._code is None:
            raise ValueError("no response arrived: this status has no code")
        return self._code

    def __int__(self) -> int:
        return self._int()

    __index__ = __int__

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Status):
            return self._code == other._code
        if isinstance(other, int):
            return self._code == other
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        r = self.__eq__(other)
        return r if r is NotImplemented else not r

    def __hash__(self) -> int:
        return hash(self._code)

    def __lt__(self, other: int) -> bool:
        return self._int() < int(other)

    def __le__(self, other: int) -> bool:
        return self._int() <= int(other)

    def __gt__(self, other: int) -> bool:
        return self._int() > int(other)

    def __ge__(self, other: int) -> bool:
        return self._int() >= int(other)

    def __and__(self, other: int) -> int:
        return self._int() & int(other)

    __rand__ = __and__

    def __rshift__(self, other: int) -> int:
        return self._int() >> int(other)

    def __format__(self, spec: str) -> str:
        if not spec:
            return str(self)
        return format(self._int(), spec)

    def __str__(self) -> str:
        return "(no response)" if self._code is None else f"0x{self._code:04X}"

    def __repr__(self) -> str:
        if self._code is None:
            return "<Status: no response>"
        extra = f" {self.ErrorComment!r}" if self.ErrorComment else ""
        return f"<Status 0x{self._code:04X} {self.category}{extra}>"


def code_of(value: Any) -> int:
    """A handler's status as a code: an ``int``, a :class:`Status`, or (as
    pynetdicom handlers may return) a data set with a ``Status`` element."""
    if isinstance(value, (int, Status)):
        return int(value)
    code = getattr(value, "Status", None)
    if code is None:
        raise TypeError(f"a status must be an int or have a Status element, not {value!r}")
    return int(code)


def encode_command(elements: dict[int, Any]) -> bytes:
    return _core.dimse_encode(elements)


def decode_command(data: bytes | memoryview) -> dict[int, Any]:
    return _core.dimse_decode(data)


class Sink(Protocol):
    nbytes: int

    def write(self, data: memoryview | bytes) -> None: ...

    def close(self) -> None: ...

    def discard(self) -> None: ...


@dataclass
class Message:
    """A complete DIMSE message: its command and, if one came, the data set sink."""

    context_id: int
    command: dict[int, Any]
    sink: Any = None

    @property
    def command_field(self) -> int:
        return int(self.command.get(COMMAND_FIELD, -1))


_IDLE, _COMMAND, _AWAIT_DATA, _DATA = range(4)


class MessageAssembler:
    """PDVs → messages (PS3.8 Annex E, PS3.7 §9.3.1 ordering rules).

    Command fragments are collected (they are small); when a command set
    announces a data set, ``open_sink(context_id, command)`` gives the object
    the data fragments are written to as they arrive.
    """

    def __init__(self, open_sink: Callable[[int, dict[int, Any]], Sink]) -> None:
        self._open_sink = open_sink
        self._state = _IDLE
        self._pc = 0
        self._cmd = bytearray()
        self._command: dict[int, Any] = {}
        self.sink: Any = None

    @property
    def idle(self) -> bool:
        return self._state == _IDLE

    def feed(self, buf: bytes, pdvs: list[tuple[int, bool, bool, int, int]]) -> list[Message]:
        """Consume the PDVs of one P-DATA-TF (offsets into ``buf``)."""
        done: list[Message] = []
        view = memoryview(buf)
        for pc, is_command, is_last, start, end in pdvs:
            state = self._state
            if state != _IDLE and pc != self._pc:
                raise PduError(
                    f"PDV for presentation context {pc} inside a message on context {self._pc}"
                )
            if is_command:
                if state == _AWAIT_DATA or state == _DATA:
                    raise PduError(f"command fragment on context {pc} while a data set is owed")
                self._pc = pc
                self._cmd += view[start:end]
                if len(self._cmd) > MAX_COMMAND_LEN:
                    raise PduError("command set larger than 1 MiB")
                if not is_last:
                    self._state = _COMMAND
                    continue
                command = decode_command(bytes(self._cmd))
                self._cmd.clear()
                if command.get(COMMAND_DATA_SET_TYPE, NO_DATA_SET) == NO_DATA_SET:
                    self._state = _IDLE
                    done.append(Message(pc, command))
                else:
                    self._command = command
                    self.sink = self._open_sink(pc, command)
                    self._state = _AWAIT_DATA
                continue
            if state == _IDLE or state == _COMMAND:
                raise PduError(
                    f"data set fragment on context {pc} without a command announcing one"
                )
            self.sink.write(view[start:end])
            if is_last:
                sink, self.sink = self.sink, None
                sink.close()
                self._state = _IDLE
                done.append(Message(pc, self._command, sink))
                self._command = {}
            else:
                self._state = _DATA
        return done

    def abort(self) -> None:
        """Drop a partial message (deleting its sink's temporary file)."""
        if self.sink is not None:
            try:
                self.sink.discard()
            finally:
                self.sink = None
        self._state = _IDLE
        self._cmd.clear()
