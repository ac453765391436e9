import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from sscard.type.v1 import agent_pb2 as _agent_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RefundStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REFUND_STATUS_UNSPECIFIED: _ClassVar[RefundStatus]
    REFUND_STATUS_PENDING_REVIEW: _ClassVar[RefundStatus]
    REFUND_STATUS_APPROVED: _ClassVar[RefundStatus]
    REFUND_STATUS_REJECTED: _ClassVar[RefundStatus]

class LossChannel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOSS_CHANNEL_UNSPECIFIED: _ClassVar[LossChannel]
    LOSS_CHANNEL_HOTLINE_IVR: _ClassVar[LossChannel]
    LOSS_CHANNEL_HOTLINE_AGENT: _ClassVar[LossChannel]
    LOSS_CHANNEL_WEBSITE: _ClassVar[LossChannel]
    LOSS_CHANNEL_APP: _ClassVar[LossChannel]
    LOSS_CHANNEL_WECHAT: _ClassVar[LossChannel]
    LOSS_CHANNEL_HOSPITAL_TERMINAL: _ClassVar[LossChannel]
    LOSS_CHANNEL_BANK: _ClassVar[LossChannel]
    LOSS_CHANNEL_OUTLET: _ClassVar[LossChannel]

class LossState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOSS_STATE_UNSPECIFIED: _ClassVar[LossState]
    LOSS_STATE_NONE: _ClassVar[LossState]
    LOSS_STATE_TEMPORARY: _ClassVar[LossState]
    LOSS_STATE_FORMAL: _ClassVar[LossState]
REFUND_STATUS_UNSPECIFIED: RefundStatus
REFUND_STATUS_PENDING_REVIEW: RefundStatus
REFUND_STATUS_APPROVED: RefundStatus
REFUND_STATUS_REJECTED: RefundStatus
LOSS_CHANNEL_UNSPECIFIED: LossChannel
LOSS_CHANNEL_HOTLINE_IVR: LossChannel
LOSS_CHANNEL_HOTLINE_AGENT: LossChannel
LOSS_CHANNEL_WEBSITE: LossChannel
LOSS_CHANNEL_APP: LossChannel
LOSS_CHANNEL_WECHAT: LossChannel
LOSS_CHANNEL_HOSPITAL_TERMINAL: LossChannel
LOSS_CHANNEL_BANK: LossChannel
LOSS_CHANNEL_OUTLET: LossChannel
LOSS_STATE_UNSPECIFIED: LossState
LOSS_STATE_NONE: LossState
LOSS_STATE_TEMPORARY: LossState
LOSS_STATE_FORMAL: LossState

class RefundClaim(_message.Message):
    __slots__ = ("claim_id", "card_no", "report_id", "institution_code", "receipt_no", "expense_date", "amount_fen", "status", "review_note")
    CLAIM_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_CODE_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_NO_FIELD_NUMBER: _ClassVar[int]
    EXPENSE_DATE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REVIEW_NOTE_FIELD_NUMBER: _ClassVar[int]
    claim_id: str
    card_no: str
    report_id: str
    institution_code: str
    receipt_no: str
    expense_date: str
    amount_fen: int
    status: RefundStatus
    review_note: str
    def __init__(self, claim_id: _Optional[str] = ..., card_no: _Optional[str] = ..., report_id: _Optional[str] = ..., institution_code: _Optional[str] = ..., receipt_no: _Optional[str] = ..., expense_date: _Optional[str] = ..., amount_fen: _Optional[int] = ..., status: _Optional[_Union[RefundStatus, str]] = ..., review_note: _Optional[str] = ...) -> None: ...

class ClaimLossPeriodRefundRequest(_message.Message):
    __slots__ = ("request_id", "card_no", "citizen_id", "institution_code", "receipt_no", "expense_date", "amount_fen", "agent")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    CITIZEN_ID_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_CODE_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_NO_FIELD_NUMBER: _ClassVar[int]
    EXPENSE_DATE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    card_no: str
    citizen_id: str
    institution_code: str
    receipt_no: str
    expense_date: str
    amount_fen: int
    agent: _agent_pb2.Agent
    def __init__(self, request_id: _Optional[str] = ..., card_no: _Optional[str] = ..., citizen_id: _Optional[str] = ..., institution_code: _Optional[str] = ..., receipt_no: _Optional[str] = ..., expense_date: _Optional[str] = ..., amount_fen: _Optional[int] = ..., agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ...) -> None: ...

class ClaimLossPeriodRefundResponse(_message.Message):
    __slots__ = ("claim",)
    CLAIM_FIELD_NUMBER: _ClassVar[int]
    claim: RefundClaim
    def __init__(self, claim: _Optional[_Union[RefundClaim, _Mapping]] = ...) -> None: ...

class ReviewLossPeriodRefundRequest(_message.Message):
    __slots__ = ("request_id", "claim_id", "approve", "reviewer", "note")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CLAIM_ID_FIELD_NUMBER: _ClassVar[int]
    APPROVE_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    claim_id: str
    approve: bool
    reviewer: str
    note: str
    def __init__(self, request_id: _Optional[str] = ..., claim_id: _Optional[str] = ..., approve: _Optional[bool] = ..., reviewer: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ReviewLossPeriodRefundResponse(_message.Message):
    __slots__ = ("claim",)
    CLAIM_FIELD_NUMBER: _ClassVar[int]
    claim: RefundClaim
    def __init__(self, claim: _Optional[_Union[RefundClaim, _Mapping]] = ...) -> None: ...

class LossRecord(_message.Message):
    __slots__ = ("report_id", "what", "channel", "agent", "at", "detail")
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    WHAT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    what: str
    channel: LossChannel
    agent: _agent_pb2.Agent
    at: _timestamp_pb2.Timestamp
    detail: str
    def __init__(self, report_id: _Optional[str] = ..., what: _Optional[str] = ..., channel: _Optional[_Union[LossChannel, str]] = ..., agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., detail: _Optional[str] = ...) -> None: ...

class ReportTemporaryLossRequest(_message.Message):
    __slots__ = ("request_id", "card_no", "channel", "citizen_id", "name", "pin", "agent")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CITIZEN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PIN_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    card_no: str
    channel: LossChannel
    citizen_id: str
    name: str
    pin: str
    agent: _agent_pb2.Agent
    def __init__(self, request_id: _Optional[str] = ..., card_no: _Optional[str] = ..., channel: _Optional[_Union[LossChannel, str]] = ..., citizen_id: _Optional[str] = ..., name: _Optional[str] = ..., pin: _Optional[str] = ..., agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ...) -> None: ...

class ReportTemporaryLossResponse(_message.Message):
    __slots__ = ("report_id", "state", "expires_at")
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    state: LossState
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, report_id: _Optional[str] = ..., state: _Optional[_Union[LossState, str]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReportFormalLossRequest(_message.Message):
    __slots__ = ("request_id", "card_no", "channel", "citizen_id", "name", "agent")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CITIZEN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    card_no: str
    channel: LossChannel
    citizen_id: str
    name: str
    agent: _agent_pb2.Agent
    def __init__(self, request_id: _Optional[str] = ..., card_no: _Optional[str] = ..., channel: _Optional[_Union[LossChannel, str]] = ..., citizen_id: _Optional[str] = ..., name: _Optional[str] = ..., agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ...) -> None: ...

class ReportFormalLossResponse(_message.Message):
    __slots__ = ("report_id", "state")
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    state: LossState
    def __init__(self, report_id: _Optional[str] = ..., state: _Optional[_Union[LossState, str]] = ...) -> None: ...

class LiftLossRequest(_message.Message):
    __slots__ = ("request_id", "card_no", "citizen_id", "agent", "channel")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    CITIZEN_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    card_no: str
    citizen_id: str
    agent: _agent_pb2.Agent
    channel: LossChannel
    def __init__(self, request_id: _Optional[str] = ..., card_no: _Optional[str] = ..., citizen_id: _Optional[str] = ..., agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ..., channel: _Optional[_Union[LossChannel, str]] = ...) -> None: ...

class LiftLossResponse(_message.Message):
    __slots__ = ("state",)
    STATE_FIELD_NUMBER: _ClassVar[int]
    state: LossState
    def __init__(self, state: _Optional[_Union[LossState, str]] = ...) -> None: ...

class GetLossStateRequest(_message.Message):
    __slots__ = ("card_no",)
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    def __init__(self, card_no: _Optional[str] = ...) -> None: ...

class GetLossStateResponse(_message.Message):
    __slots__ = ("card_no", "state", "expires_at", "history")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    state: LossState
    expires_at: _timestamp_pb2.Timestamp
    history: _containers.RepeatedCompositeFieldContainer[LossRecord]
    def __init__(self, card_no: _Optional[str] = ..., state: _Optional[_Union[LossState, str]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., history: _Optional[_Iterable[_Union[LossRecord, _Mapping]]] = ...) -> None: ...
