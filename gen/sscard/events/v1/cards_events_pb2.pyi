from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class CardChanged(_message.Message):
    __slots__ = ("card_no", "person_id", "citizen_id", "region_code", "state", "reason", "replaces_card_no", "replaced_by_card_no", "pin_enabled", "kind", "fee_fen", "bank_code", "name", "wrong_pin_count", "pin_seal")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    CITIZEN_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REPLACES_CARD_NO_FIELD_NUMBER: _ClassVar[int]
    REPLACED_BY_CARD_NO_FIELD_NUMBER: _ClassVar[int]
    PIN_ENABLED_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    FEE_FEN_FIELD_NUMBER: _ClassVar[int]
    BANK_CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    WRONG_PIN_COUNT_FIELD_NUMBER: _ClassVar[int]
    PIN_SEAL_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    person_id: str
    citizen_id: str
    region_code: str
    state: str
    reason: str
    replaces_card_no: str
    replaced_by_card_no: str
    pin_enabled: bool
    kind: str
    fee_fen: int
    bank_code: str
    name: str
    wrong_pin_count: int
    pin_seal: bytes
    def __init__(self, card_no: _Optional[str] = ..., person_id: _Optional[str] = ..., citizen_id: _Optional[str] = ..., region_code: _Optional[str] = ..., state: _Optional[str] = ..., reason: _Optional[str] = ..., replaces_card_no: _Optional[str] = ..., replaced_by_card_no: _Optional[str] = ..., pin_enabled: _Optional[bool] = ..., kind: _Optional[str] = ..., fee_fen: _Optional[int] = ..., bank_code: _Optional[str] = ..., name: _Optional[str] = ..., wrong_pin_count: _Optional[int] = ..., pin_seal: _Optional[bytes] = ...) -> None: ...
