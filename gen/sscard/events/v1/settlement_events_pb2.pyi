from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class AccountMoved(_message.Message):
    __slots__ = ("person_id", "old_card_no", "new_card_no", "balance_fen")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    OLD_CARD_NO_FIELD_NUMBER: _ClassVar[int]
    NEW_CARD_NO_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FEN_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    old_card_no: str
    new_card_no: str
    balance_fen: int
    def __init__(self, person_id: _Optional[str] = ..., old_card_no: _Optional[str] = ..., new_card_no: _Optional[str] = ..., balance_fen: _Optional[int] = ...) -> None: ...

class SettlementRefused(_message.Message):
    __slots__ = ("card_no", "reason", "institution_code", "medfee_sumamt_fen")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_CODE_FIELD_NUMBER: _ClassVar[int]
    MEDFEE_SUMAMT_FEN_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    reason: str
    institution_code: str
    medfee_sumamt_fen: int
    def __init__(self, card_no: _Optional[str] = ..., reason: _Optional[str] = ..., institution_code: _Optional[str] = ..., medfee_sumamt_fen: _Optional[int] = ...) -> None: ...

class Settled(_message.Message):
    __slots__ = ("card_no", "setl_id", "institution_code", "medfee_sumamt_fen")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    SETL_ID_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_CODE_FIELD_NUMBER: _ClassVar[int]
    MEDFEE_SUMAMT_FEN_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    setl_id: str
    institution_code: str
    medfee_sumamt_fen: int
    def __init__(self, card_no: _Optional[str] = ..., setl_id: _Optional[str] = ..., institution_code: _Optional[str] = ..., medfee_sumamt_fen: _Optional[int] = ...) -> None: ...

class AccountPaidOut(_message.Message):
    __slots__ = ("person_id", "card_no", "amount_fen", "reason")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    card_no: str
    amount_fen: int
    reason: str
    def __init__(self, person_id: _Optional[str] = ..., card_no: _Optional[str] = ..., amount_fen: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class PinAttempted(_message.Message):
    __slots__ = ("card_no", "correct", "institution_code")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    CORRECT_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_CODE_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    correct: bool
    institution_code: str
    def __init__(self, card_no: _Optional[str] = ..., correct: _Optional[bool] = ..., institution_code: _Optional[str] = ...) -> None: ...

class PinLocked(_message.Message):
    __slots__ = ("card_no", "wrong_attempts", "institution_code")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    WRONG_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_CODE_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    wrong_attempts: int
    institution_code: str
    def __init__(self, card_no: _Optional[str] = ..., wrong_attempts: _Optional[int] = ..., institution_code: _Optional[str] = ...) -> None: ...

class AccountMovedOut(_message.Message):
    __slots__ = ("person_id", "amount_fen", "to_region_code")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    TO_REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    amount_fen: int
    to_region_code: str
    def __init__(self, person_id: _Optional[str] = ..., amount_fen: _Optional[int] = ..., to_region_code: _Optional[str] = ...) -> None: ...

class LegacyCardChanged(_message.Message):
    __slots__ = ("card_no", "person_id", "citizen_id", "name", "region_code", "state", "replaced_by_card_no")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    CITIZEN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REPLACED_BY_CARD_NO_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    person_id: str
    citizen_id: str
    name: str
    region_code: str
    state: str
    replaced_by_card_no: str
    def __init__(self, card_no: _Optional[str] = ..., person_id: _Optional[str] = ..., citizen_id: _Optional[str] = ..., name: _Optional[str] = ..., region_code: _Optional[str] = ..., state: _Optional[str] = ..., replaced_by_card_no: _Optional[str] = ...) -> None: ...
