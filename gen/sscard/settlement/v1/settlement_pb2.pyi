import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CareType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CARE_TYPE_UNSPECIFIED: _ClassVar[CareType]
    CARE_TYPE_OUTPATIENT: _ClassVar[CareType]
    CARE_TYPE_INPATIENT: _ClassVar[CareType]
    CARE_TYPE_PHARMACY: _ClassVar[CareType]

class CatalogClass(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CATALOG_CLASS_UNSPECIFIED: _ClassVar[CatalogClass]
    CATALOG_CLASS_A: _ClassVar[CatalogClass]
    CATALOG_CLASS_B: _ClassVar[CatalogClass]
    CATALOG_CLASS_C: _ClassVar[CatalogClass]

class CardUsability(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CARD_USABILITY_UNSPECIFIED: _ClassVar[CardUsability]
    CARD_USABILITY_USABLE: _ClassVar[CardUsability]
    CARD_USABILITY_REFUSED: _ClassVar[CardUsability]

class EntryKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENTRY_KIND_UNSPECIFIED: _ClassVar[EntryKind]
    ENTRY_KIND_ALLOCATION: _ClassVar[EntryKind]
    ENTRY_KIND_SETTLEMENT: _ClassVar[EntryKind]
    ENTRY_KIND_REVOCATION: _ClassVar[EntryKind]
    ENTRY_KIND_MOVE_IN: _ClassVar[EntryKind]
    ENTRY_KIND_MOVE_OUT: _ClassVar[EntryKind]
    ENTRY_KIND_PAYOUT: _ClassVar[EntryKind]
    ENTRY_KIND_REFUND: _ClassVar[EntryKind]
CARE_TYPE_UNSPECIFIED: CareType
CARE_TYPE_OUTPATIENT: CareType
CARE_TYPE_INPATIENT: CareType
CARE_TYPE_PHARMACY: CareType
CATALOG_CLASS_UNSPECIFIED: CatalogClass
CATALOG_CLASS_A: CatalogClass
CATALOG_CLASS_B: CatalogClass
CATALOG_CLASS_C: CatalogClass
CARD_USABILITY_UNSPECIFIED: CardUsability
CARD_USABILITY_USABLE: CardUsability
CARD_USABILITY_REFUSED: CardUsability
ENTRY_KIND_UNSPECIFIED: EntryKind
ENTRY_KIND_ALLOCATION: EntryKind
ENTRY_KIND_SETTLEMENT: EntryKind
ENTRY_KIND_REVOCATION: EntryKind
ENTRY_KIND_MOVE_IN: EntryKind
ENTRY_KIND_MOVE_OUT: EntryKind
ENTRY_KIND_PAYOUT: EntryKind
ENTRY_KIND_REFUND: EntryKind

class LineItem(_message.Message):
    __slots__ = ("code", "name", "catalog_class", "amount_fen")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CATALOG_CLASS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    code: str
    name: str
    catalog_class: CatalogClass
    amount_fen: int
    def __init__(self, code: _Optional[str] = ..., name: _Optional[str] = ..., catalog_class: _Optional[_Union[CatalogClass, str]] = ..., amount_fen: _Optional[int] = ...) -> None: ...

class AllocateToAccountRequest(_message.Message):
    __slots__ = ("request_id", "person_id", "amount_fen", "period")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    person_id: str
    amount_fen: int
    period: str
    def __init__(self, request_id: _Optional[str] = ..., person_id: _Optional[str] = ..., amount_fen: _Optional[int] = ..., period: _Optional[str] = ...) -> None: ...

class AllocateToAccountResponse(_message.Message):
    __slots__ = ("entry_id", "balance_fen")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FEN_FIELD_NUMBER: _ClassVar[int]
    entry_id: str
    balance_fen: int
    def __init__(self, entry_id: _Optional[str] = ..., balance_fen: _Optional[int] = ...) -> None: ...

class CheckCardRequest(_message.Message):
    __slots__ = ("card_no", "pin", "citizen_id", "ecard_token")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    PIN_FIELD_NUMBER: _ClassVar[int]
    CITIZEN_ID_FIELD_NUMBER: _ClassVar[int]
    ECARD_TOKEN_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    pin: str
    citizen_id: str
    ecard_token: str
    def __init__(self, card_no: _Optional[str] = ..., pin: _Optional[str] = ..., citizen_id: _Optional[str] = ..., ecard_token: _Optional[str] = ...) -> None: ...

class CheckCardResponse(_message.Message):
    __slots__ = ("card_no", "person_id", "region_code", "usability", "refusal_reason", "insured_category", "balance_fen")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    USABILITY_FIELD_NUMBER: _ClassVar[int]
    REFUSAL_REASON_FIELD_NUMBER: _ClassVar[int]
    INSURED_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FEN_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    person_id: str
    region_code: str
    usability: CardUsability
    refusal_reason: str
    insured_category: str
    balance_fen: int
    def __init__(self, card_no: _Optional[str] = ..., person_id: _Optional[str] = ..., region_code: _Optional[str] = ..., usability: _Optional[_Union[CardUsability, str]] = ..., refusal_reason: _Optional[str] = ..., insured_category: _Optional[str] = ..., balance_fen: _Optional[int] = ...) -> None: ...

class SignInRequest(_message.Message):
    __slots__ = ("business_date",)
    BUSINESS_DATE_FIELD_NUMBER: _ClassVar[int]
    business_date: str
    def __init__(self, business_date: _Optional[str] = ...) -> None: ...

class SignInResponse(_message.Message):
    __slots__ = ("sign_no", "business_date")
    SIGN_NO_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_DATE_FIELD_NUMBER: _ClassVar[int]
    sign_no: str
    business_date: str
    def __init__(self, sign_no: _Optional[str] = ..., business_date: _Optional[str] = ...) -> None: ...

class Settlement(_message.Message):
    __slots__ = ("setl_id", "msg_id", "card_no", "person_id", "care_type", "medfee_sumamt_fen", "fund_pay_sumamt_fen", "acct_pay_fen", "psn_cash_pay_fen", "status", "settled_at")
    SETL_ID_FIELD_NUMBER: _ClassVar[int]
    MSG_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    CARE_TYPE_FIELD_NUMBER: _ClassVar[int]
    MEDFEE_SUMAMT_FEN_FIELD_NUMBER: _ClassVar[int]
    FUND_PAY_SUMAMT_FEN_FIELD_NUMBER: _ClassVar[int]
    ACCT_PAY_FEN_FIELD_NUMBER: _ClassVar[int]
    PSN_CASH_PAY_FEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SETTLED_AT_FIELD_NUMBER: _ClassVar[int]
    setl_id: str
    msg_id: str
    card_no: str
    person_id: str
    care_type: CareType
    medfee_sumamt_fen: int
    fund_pay_sumamt_fen: int
    acct_pay_fen: int
    psn_cash_pay_fen: int
    status: str
    settled_at: _timestamp_pb2.Timestamp
    def __init__(self, setl_id: _Optional[str] = ..., msg_id: _Optional[str] = ..., card_no: _Optional[str] = ..., person_id: _Optional[str] = ..., care_type: _Optional[_Union[CareType, str]] = ..., medfee_sumamt_fen: _Optional[int] = ..., fund_pay_sumamt_fen: _Optional[int] = ..., acct_pay_fen: _Optional[int] = ..., psn_cash_pay_fen: _Optional[int] = ..., status: _Optional[str] = ..., settled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RevokeSettlementRequest(_message.Message):
    __slots__ = ("msg_id", "setl_id", "reason")
    MSG_ID_FIELD_NUMBER: _ClassVar[int]
    SETL_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    msg_id: str
    setl_id: str
    reason: str
    def __init__(self, msg_id: _Optional[str] = ..., setl_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RevokeSettlementResponse(_message.Message):
    __slots__ = ("settlement", "balance_fen")
    SETTLEMENT_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FEN_FIELD_NUMBER: _ClassVar[int]
    settlement: Settlement
    balance_fen: int
    def __init__(self, settlement: _Optional[_Union[Settlement, _Mapping]] = ..., balance_fen: _Optional[int] = ...) -> None: ...

class ReverseSettlementRequest(_message.Message):
    __slots__ = ("msg_id", "original_msg_id")
    MSG_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_MSG_ID_FIELD_NUMBER: _ClassVar[int]
    msg_id: str
    original_msg_id: str
    def __init__(self, msg_id: _Optional[str] = ..., original_msg_id: _Optional[str] = ...) -> None: ...

class ReverseSettlementResponse(_message.Message):
    __slots__ = ("outcome", "setl_id")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    SETL_ID_FIELD_NUMBER: _ClassVar[int]
    outcome: str
    setl_id: str
    def __init__(self, outcome: _Optional[str] = ..., setl_id: _Optional[str] = ...) -> None: ...

class DayTotals(_message.Message):
    __slots__ = ("count", "medfee_sumamt_fen", "fund_pay_sumamt_fen", "acct_pay_fen", "psn_cash_pay_fen")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    MEDFEE_SUMAMT_FEN_FIELD_NUMBER: _ClassVar[int]
    FUND_PAY_SUMAMT_FEN_FIELD_NUMBER: _ClassVar[int]
    ACCT_PAY_FEN_FIELD_NUMBER: _ClassVar[int]
    PSN_CASH_PAY_FEN_FIELD_NUMBER: _ClassVar[int]
    count: int
    medfee_sumamt_fen: int
    fund_pay_sumamt_fen: int
    acct_pay_fen: int
    psn_cash_pay_fen: int
    def __init__(self, count: _Optional[int] = ..., medfee_sumamt_fen: _Optional[int] = ..., fund_pay_sumamt_fen: _Optional[int] = ..., acct_pay_fen: _Optional[int] = ..., psn_cash_pay_fen: _Optional[int] = ...) -> None: ...

class ReconcileRequest(_message.Message):
    __slots__ = ("business_date", "totals", "details")
    BUSINESS_DATE_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    business_date: str
    totals: DayTotals
    details: _containers.RepeatedCompositeFieldContainer[Settlement]
    def __init__(self, business_date: _Optional[str] = ..., totals: _Optional[_Union[DayTotals, _Mapping]] = ..., details: _Optional[_Iterable[_Union[Settlement, _Mapping]]] = ...) -> None: ...

class ReconcileResponse(_message.Message):
    __slots__ = ("matched", "ours", "differing", "differing_reasons")
    MATCHED_FIELD_NUMBER: _ClassVar[int]
    OURS_FIELD_NUMBER: _ClassVar[int]
    DIFFERING_FIELD_NUMBER: _ClassVar[int]
    DIFFERING_REASONS_FIELD_NUMBER: _ClassVar[int]
    matched: bool
    ours: DayTotals
    differing: _containers.RepeatedCompositeFieldContainer[Settlement]
    differing_reasons: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, matched: _Optional[bool] = ..., ours: _Optional[_Union[DayTotals, _Mapping]] = ..., differing: _Optional[_Iterable[_Union[Settlement, _Mapping]]] = ..., differing_reasons: _Optional[_Iterable[str]] = ...) -> None: ...

class Filing(_message.Message):
    __slots__ = ("filing_id", "person_id", "treatment_region_code", "valid_from", "valid_to")
    FILING_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    TREATMENT_REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_TO_FIELD_NUMBER: _ClassVar[int]
    filing_id: str
    person_id: str
    treatment_region_code: str
    valid_from: str
    valid_to: str
    def __init__(self, filing_id: _Optional[str] = ..., person_id: _Optional[str] = ..., treatment_region_code: _Optional[str] = ..., valid_from: _Optional[str] = ..., valid_to: _Optional[str] = ...) -> None: ...

class CreateFilingRequest(_message.Message):
    __slots__ = ("request_id", "person_id", "treatment_region_code", "valid_from", "valid_to")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    TREATMENT_REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_TO_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    person_id: str
    treatment_region_code: str
    valid_from: str
    valid_to: str
    def __init__(self, request_id: _Optional[str] = ..., person_id: _Optional[str] = ..., treatment_region_code: _Optional[str] = ..., valid_from: _Optional[str] = ..., valid_to: _Optional[str] = ...) -> None: ...

class CreateFilingResponse(_message.Message):
    __slots__ = ("filing",)
    FILING_FIELD_NUMBER: _ClassVar[int]
    filing: Filing
    def __init__(self, filing: _Optional[_Union[Filing, _Mapping]] = ...) -> None: ...

class ListFilingsRequest(_message.Message):
    __slots__ = ("person_id",)
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    def __init__(self, person_id: _Optional[str] = ...) -> None: ...

class ListFilingsResponse(_message.Message):
    __slots__ = ("filings",)
    FILINGS_FIELD_NUMBER: _ClassVar[int]
    filings: _containers.RepeatedCompositeFieldContainer[Filing]
    def __init__(self, filings: _Optional[_Iterable[_Union[Filing, _Mapping]]] = ...) -> None: ...

class RegisterLegacyAccountRequest(_message.Message):
    __slots__ = ("request_id", "person_id", "legacy_card_no", "balance_fen")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    LEGACY_CARD_NO_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FEN_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    person_id: str
    legacy_card_no: str
    balance_fen: int
    def __init__(self, request_id: _Optional[str] = ..., person_id: _Optional[str] = ..., legacy_card_no: _Optional[str] = ..., balance_fen: _Optional[int] = ...) -> None: ...

class RegisterLegacyAccountResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: str
    def __init__(self, status: _Optional[str] = ...) -> None: ...

class PreSettleRequest(_message.Message):
    __slots__ = ("card_no", "care_type", "items", "ecard_token")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    CARE_TYPE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    ECARD_TOKEN_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    care_type: CareType
    items: _containers.RepeatedCompositeFieldContainer[LineItem]
    ecard_token: str
    def __init__(self, card_no: _Optional[str] = ..., care_type: _Optional[_Union[CareType, str]] = ..., items: _Optional[_Iterable[_Union[LineItem, _Mapping]]] = ..., ecard_token: _Optional[str] = ...) -> None: ...

class PreSettleResponse(_message.Message):
    __slots__ = ("medfee_sumamt_fen", "fund_pay_sumamt_fen", "acct_pay_fen", "psn_cash_pay_fen")
    MEDFEE_SUMAMT_FEN_FIELD_NUMBER: _ClassVar[int]
    FUND_PAY_SUMAMT_FEN_FIELD_NUMBER: _ClassVar[int]
    ACCT_PAY_FEN_FIELD_NUMBER: _ClassVar[int]
    PSN_CASH_PAY_FEN_FIELD_NUMBER: _ClassVar[int]
    medfee_sumamt_fen: int
    fund_pay_sumamt_fen: int
    acct_pay_fen: int
    psn_cash_pay_fen: int
    def __init__(self, medfee_sumamt_fen: _Optional[int] = ..., fund_pay_sumamt_fen: _Optional[int] = ..., acct_pay_fen: _Optional[int] = ..., psn_cash_pay_fen: _Optional[int] = ...) -> None: ...

class SettleRequest(_message.Message):
    __slots__ = ("msg_id", "card_no", "pin", "care_type", "items", "mdtrt_id", "ecard_token")
    MSG_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    PIN_FIELD_NUMBER: _ClassVar[int]
    CARE_TYPE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    MDTRT_ID_FIELD_NUMBER: _ClassVar[int]
    ECARD_TOKEN_FIELD_NUMBER: _ClassVar[int]
    msg_id: str
    card_no: str
    pin: str
    care_type: CareType
    items: _containers.RepeatedCompositeFieldContainer[LineItem]
    mdtrt_id: str
    ecard_token: str
    def __init__(self, msg_id: _Optional[str] = ..., card_no: _Optional[str] = ..., pin: _Optional[str] = ..., care_type: _Optional[_Union[CareType, str]] = ..., items: _Optional[_Iterable[_Union[LineItem, _Mapping]]] = ..., mdtrt_id: _Optional[str] = ..., ecard_token: _Optional[str] = ...) -> None: ...

class SettleResponse(_message.Message):
    __slots__ = ("setl_id", "medfee_sumamt_fen", "fund_pay_sumamt_fen", "acct_pay_fen", "psn_cash_pay_fen", "balance_fen", "settled_at")
    SETL_ID_FIELD_NUMBER: _ClassVar[int]
    MEDFEE_SUMAMT_FEN_FIELD_NUMBER: _ClassVar[int]
    FUND_PAY_SUMAMT_FEN_FIELD_NUMBER: _ClassVar[int]
    ACCT_PAY_FEN_FIELD_NUMBER: _ClassVar[int]
    PSN_CASH_PAY_FEN_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FEN_FIELD_NUMBER: _ClassVar[int]
    SETTLED_AT_FIELD_NUMBER: _ClassVar[int]
    setl_id: str
    medfee_sumamt_fen: int
    fund_pay_sumamt_fen: int
    acct_pay_fen: int
    psn_cash_pay_fen: int
    balance_fen: int
    settled_at: _timestamp_pb2.Timestamp
    def __init__(self, setl_id: _Optional[str] = ..., medfee_sumamt_fen: _Optional[int] = ..., fund_pay_sumamt_fen: _Optional[int] = ..., acct_pay_fen: _Optional[int] = ..., psn_cash_pay_fen: _Optional[int] = ..., balance_fen: _Optional[int] = ..., settled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetAccountRequest(_message.Message):
    __slots__ = ("card_no", "pin", "ecard_token")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    PIN_FIELD_NUMBER: _ClassVar[int]
    ECARD_TOKEN_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    pin: str
    ecard_token: str
    def __init__(self, card_no: _Optional[str] = ..., pin: _Optional[str] = ..., ecard_token: _Optional[str] = ...) -> None: ...

class GetAccountResponse(_message.Message):
    __slots__ = ("person_id", "card_no", "balance_fen")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FEN_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    card_no: str
    balance_fen: int
    def __init__(self, person_id: _Optional[str] = ..., card_no: _Optional[str] = ..., balance_fen: _Optional[int] = ...) -> None: ...

class AccountEntry(_message.Message):
    __slots__ = ("entry_id", "kind", "amount_fen", "balance_after_fen", "card_no", "reference", "at")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    BALANCE_AFTER_FEN_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    entry_id: str
    kind: EntryKind
    amount_fen: int
    balance_after_fen: int
    card_no: str
    reference: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, entry_id: _Optional[str] = ..., kind: _Optional[_Union[EntryKind, str]] = ..., amount_fen: _Optional[int] = ..., balance_after_fen: _Optional[int] = ..., card_no: _Optional[str] = ..., reference: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListAccountEntriesRequest(_message.Message):
    __slots__ = ("card_no", "page_size", "page_token", "pin", "ecard_token")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PIN_FIELD_NUMBER: _ClassVar[int]
    ECARD_TOKEN_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    page_size: int
    page_token: str
    pin: str
    ecard_token: str
    def __init__(self, card_no: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., pin: _Optional[str] = ..., ecard_token: _Optional[str] = ...) -> None: ...

class ListAccountEntriesResponse(_message.Message):
    __slots__ = ("entries", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[AccountEntry]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[AccountEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
