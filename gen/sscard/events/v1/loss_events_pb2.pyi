from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class CardLossChanged(_message.Message):
    __slots__ = ("card_no", "person_id", "report_id", "loss_state", "channel", "bank_code", "reported_wall_us")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    LOSS_STATE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    BANK_CODE_FIELD_NUMBER: _ClassVar[int]
    REPORTED_WALL_US_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    person_id: str
    report_id: str
    loss_state: str
    channel: str
    bank_code: str
    reported_wall_us: int
    def __init__(self, card_no: _Optional[str] = ..., person_id: _Optional[str] = ..., report_id: _Optional[str] = ..., loss_state: _Optional[str] = ..., channel: _Optional[str] = ..., bank_code: _Optional[str] = ..., reported_wall_us: _Optional[int] = ...) -> None: ...

class RefundApproved(_message.Message):
    __slots__ = ("claim_id", "card_no", "person_id", "amount_fen", "report_id")
    CLAIM_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    claim_id: str
    card_no: str
    person_id: str
    amount_fen: int
    report_id: str
    def __init__(self, claim_id: _Optional[str] = ..., card_no: _Optional[str] = ..., person_id: _Optional[str] = ..., amount_fen: _Optional[int] = ..., report_id: _Optional[str] = ...) -> None: ...
