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

class FailureReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FAILURE_REASON_UNSPECIFIED: _ClassVar[FailureReason]
    FAILURE_REASON_BANK_ACCOUNT_FAILED: _ClassVar[FailureReason]
    FAILURE_REASON_CARD_HELD_IN_PROVINCE: _ClassVar[FailureReason]
    FAILURE_REASON_LEFT_EMPLOYER: _ClassVar[FailureReason]
    FAILURE_REASON_PHOTO_NOT_COMPLIANT: _ClassVar[FailureReason]
    FAILURE_REASON_IDENTITY_CHANGED: _ClassVar[FailureReason]

class Delivery(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_UNSPECIFIED: _ClassVar[Delivery]
    DELIVERY_OUTLET_PICKUP: _ClassVar[Delivery]
    DELIVERY_COURIER: _ClassVar[Delivery]

class CardState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CARD_STATE_UNSPECIFIED: _ClassVar[CardState]
    CARD_STATE_APPLIED: _ClassVar[CardState]
    CARD_STATE_IN_PRODUCTION: _ClassVar[CardState]
    CARD_STATE_READY: _ClassVar[CardState]
    CARD_STATE_HANDED_OUT: _ClassVar[CardState]
    CARD_STATE_ACTIVE: _ClassVar[CardState]
    CARD_STATE_FAILED: _ClassVar[CardState]
    CARD_STATE_RECALLED: _ClassVar[CardState]
    CARD_STATE_LOCKED: _ClassVar[CardState]
    CARD_STATE_REPLACED: _ClassVar[CardState]
    CARD_STATE_CANCELLED: _ClassVar[CardState]

class ApplicationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    APPLICATION_KIND_UNSPECIFIED: _ClassVar[ApplicationKind]
    APPLICATION_KIND_FIRST: _ClassVar[ApplicationKind]
    APPLICATION_KIND_REISSUE: _ClassVar[ApplicationKind]
    APPLICATION_KIND_EXCHANGE: _ClassVar[ApplicationKind]
    APPLICATION_KIND_REMAKE: _ClassVar[ApplicationKind]

class ApplicationChannel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    APPLICATION_CHANNEL_UNSPECIFIED: _ClassVar[ApplicationChannel]
    APPLICATION_CHANNEL_OUTLET: _ClassVar[ApplicationChannel]
    APPLICATION_CHANNEL_DISTRICT_CENTRE: _ClassVar[ApplicationChannel]
    APPLICATION_CHANNEL_BANK_OUTLET: _ClassVar[ApplicationChannel]
    APPLICATION_CHANNEL_EMPLOYER_BATCH: _ClassVar[ApplicationChannel]
    APPLICATION_CHANNEL_ONLINE: _ClassVar[ApplicationChannel]

class ActivationChannel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTIVATION_CHANNEL_UNSPECIFIED: _ClassVar[ActivationChannel]
    ACTIVATION_CHANNEL_INSTITUTION: _ClassVar[ActivationChannel]
    ACTIVATION_CHANNEL_BANK_OUTLET: _ClassVar[ActivationChannel]
    ACTIVATION_CHANNEL_FINANCIAL_ZONE: _ClassVar[ActivationChannel]
    ACTIVATION_CHANNEL_SERVICE_WINDOW: _ClassVar[ActivationChannel]
FAILURE_REASON_UNSPECIFIED: FailureReason
FAILURE_REASON_BANK_ACCOUNT_FAILED: FailureReason
FAILURE_REASON_CARD_HELD_IN_PROVINCE: FailureReason
FAILURE_REASON_LEFT_EMPLOYER: FailureReason
FAILURE_REASON_PHOTO_NOT_COMPLIANT: FailureReason
FAILURE_REASON_IDENTITY_CHANGED: FailureReason
DELIVERY_UNSPECIFIED: Delivery
DELIVERY_OUTLET_PICKUP: Delivery
DELIVERY_COURIER: Delivery
CARD_STATE_UNSPECIFIED: CardState
CARD_STATE_APPLIED: CardState
CARD_STATE_IN_PRODUCTION: CardState
CARD_STATE_READY: CardState
CARD_STATE_HANDED_OUT: CardState
CARD_STATE_ACTIVE: CardState
CARD_STATE_FAILED: CardState
CARD_STATE_RECALLED: CardState
CARD_STATE_LOCKED: CardState
CARD_STATE_REPLACED: CardState
CARD_STATE_CANCELLED: CardState
APPLICATION_KIND_UNSPECIFIED: ApplicationKind
APPLICATION_KIND_FIRST: ApplicationKind
APPLICATION_KIND_REISSUE: ApplicationKind
APPLICATION_KIND_EXCHANGE: ApplicationKind
APPLICATION_KIND_REMAKE: ApplicationKind
APPLICATION_CHANNEL_UNSPECIFIED: ApplicationChannel
APPLICATION_CHANNEL_OUTLET: ApplicationChannel
APPLICATION_CHANNEL_DISTRICT_CENTRE: ApplicationChannel
APPLICATION_CHANNEL_BANK_OUTLET: ApplicationChannel
APPLICATION_CHANNEL_EMPLOYER_BATCH: ApplicationChannel
APPLICATION_CHANNEL_ONLINE: ApplicationChannel
ACTIVATION_CHANNEL_UNSPECIFIED: ActivationChannel
ACTIVATION_CHANNEL_INSTITUTION: ActivationChannel
ACTIVATION_CHANNEL_BANK_OUTLET: ActivationChannel
ACTIVATION_CHANNEL_FINANCIAL_ZONE: ActivationChannel
ACTIVATION_CHANNEL_SERVICE_WINDOW: ActivationChannel

class Card(_message.Message):
    __slots__ = ("card_no", "person_id", "citizen_id", "name", "region_code", "state", "kind", "channel", "pickup_certificate_no", "fee_fen", "ready_by", "replaces_card_no", "replaced_by_card_no", "pin_enabled", "failure_reason", "applied_at", "activated_at", "delivery", "employer_unit_id", "activation_channel", "handout_due", "handout_overdue")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    CITIZEN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PICKUP_CERTIFICATE_NO_FIELD_NUMBER: _ClassVar[int]
    FEE_FEN_FIELD_NUMBER: _ClassVar[int]
    READY_BY_FIELD_NUMBER: _ClassVar[int]
    REPLACES_CARD_NO_FIELD_NUMBER: _ClassVar[int]
    REPLACED_BY_CARD_NO_FIELD_NUMBER: _ClassVar[int]
    PIN_ENABLED_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    APPLIED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTIVATED_AT_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    EMPLOYER_UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVATION_CHANNEL_FIELD_NUMBER: _ClassVar[int]
    HANDOUT_DUE_FIELD_NUMBER: _ClassVar[int]
    HANDOUT_OVERDUE_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    person_id: str
    citizen_id: str
    name: str
    region_code: str
    state: CardState
    kind: ApplicationKind
    channel: ApplicationChannel
    pickup_certificate_no: str
    fee_fen: int
    ready_by: str
    replaces_card_no: str
    replaced_by_card_no: str
    pin_enabled: bool
    failure_reason: str
    applied_at: _timestamp_pb2.Timestamp
    activated_at: _timestamp_pb2.Timestamp
    delivery: Delivery
    employer_unit_id: str
    activation_channel: ActivationChannel
    handout_due: str
    handout_overdue: bool
    def __init__(self, card_no: _Optional[str] = ..., person_id: _Optional[str] = ..., citizen_id: _Optional[str] = ..., name: _Optional[str] = ..., region_code: _Optional[str] = ..., state: _Optional[_Union[CardState, str]] = ..., kind: _Optional[_Union[ApplicationKind, str]] = ..., channel: _Optional[_Union[ApplicationChannel, str]] = ..., pickup_certificate_no: _Optional[str] = ..., fee_fen: _Optional[int] = ..., ready_by: _Optional[str] = ..., replaces_card_no: _Optional[str] = ..., replaced_by_card_no: _Optional[str] = ..., pin_enabled: _Optional[bool] = ..., failure_reason: _Optional[str] = ..., applied_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., activated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delivery: _Optional[_Union[Delivery, str]] = ..., employer_unit_id: _Optional[str] = ..., activation_channel: _Optional[_Union[ActivationChannel, str]] = ..., handout_due: _Optional[str] = ..., handout_overdue: _Optional[bool] = ...) -> None: ...

class ApplyForCardRequest(_message.Message):
    __slots__ = ("request_id", "person_id", "kind", "channel", "agent", "delivery", "delivery_address")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    person_id: str
    kind: ApplicationKind
    channel: ApplicationChannel
    agent: _agent_pb2.Agent
    delivery: Delivery
    delivery_address: str
    def __init__(self, request_id: _Optional[str] = ..., person_id: _Optional[str] = ..., kind: _Optional[_Union[ApplicationKind, str]] = ..., channel: _Optional[_Union[ApplicationChannel, str]] = ..., agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ..., delivery: _Optional[_Union[Delivery, str]] = ..., delivery_address: _Optional[str] = ...) -> None: ...

class ApplyForCardResponse(_message.Message):
    __slots__ = ("card",)
    CARD_FIELD_NUMBER: _ClassVar[int]
    card: Card
    def __init__(self, card: _Optional[_Union[Card, _Mapping]] = ...) -> None: ...

class GetCardRequest(_message.Message):
    __slots__ = ("card_no",)
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    def __init__(self, card_no: _Optional[str] = ...) -> None: ...

class GetCardResponse(_message.Message):
    __slots__ = ("card",)
    CARD_FIELD_NUMBER: _ClassVar[int]
    card: Card
    def __init__(self, card: _Optional[_Union[Card, _Mapping]] = ...) -> None: ...

class ListCardsRequest(_message.Message):
    __slots__ = ("person_id",)
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    def __init__(self, person_id: _Optional[str] = ...) -> None: ...

class ListCardsResponse(_message.Message):
    __slots__ = ("cards",)
    CARDS_FIELD_NUMBER: _ClassVar[int]
    cards: _containers.RepeatedCompositeFieldContainer[Card]
    def __init__(self, cards: _Optional[_Iterable[_Union[Card, _Mapping]]] = ...) -> None: ...

class HandOutCardRequest(_message.Message):
    __slots__ = ("request_id", "card_no", "pickup_certificate_no", "citizen_id", "agent")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    PICKUP_CERTIFICATE_NO_FIELD_NUMBER: _ClassVar[int]
    CITIZEN_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    card_no: str
    pickup_certificate_no: str
    citizen_id: str
    agent: _agent_pb2.Agent
    def __init__(self, request_id: _Optional[str] = ..., card_no: _Optional[str] = ..., pickup_certificate_no: _Optional[str] = ..., citizen_id: _Optional[str] = ..., agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ...) -> None: ...

class HandOutCardResponse(_message.Message):
    __slots__ = ("card",)
    CARD_FIELD_NUMBER: _ClassVar[int]
    card: Card
    def __init__(self, card: _Optional[_Union[Card, _Mapping]] = ...) -> None: ...

class ActivateCardRequest(_message.Message):
    __slots__ = ("request_id", "card_no", "channel")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    card_no: str
    channel: ActivationChannel
    def __init__(self, request_id: _Optional[str] = ..., card_no: _Optional[str] = ..., channel: _Optional[_Union[ActivationChannel, str]] = ...) -> None: ...

class ActivateCardResponse(_message.Message):
    __slots__ = ("card",)
    CARD_FIELD_NUMBER: _ClassVar[int]
    card: Card
    def __init__(self, card: _Optional[_Union[Card, _Mapping]] = ...) -> None: ...

class ChangePinRequest(_message.Message):
    __slots__ = ("request_id", "card_no", "old_pin", "new_pin")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    OLD_PIN_FIELD_NUMBER: _ClassVar[int]
    NEW_PIN_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    card_no: str
    old_pin: str
    new_pin: str
    def __init__(self, request_id: _Optional[str] = ..., card_no: _Optional[str] = ..., old_pin: _Optional[str] = ..., new_pin: _Optional[str] = ...) -> None: ...

class ChangePinResponse(_message.Message):
    __slots__ = ("card",)
    CARD_FIELD_NUMBER: _ClassVar[int]
    card: Card
    def __init__(self, card: _Optional[_Union[Card, _Mapping]] = ...) -> None: ...

class VerifyPinRequest(_message.Message):
    __slots__ = ("card_no", "pin")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    PIN_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    pin: str
    def __init__(self, card_no: _Optional[str] = ..., pin: _Optional[str] = ...) -> None: ...

class VerifyPinResponse(_message.Message):
    __slots__ = ("pin_enabled",)
    PIN_ENABLED_FIELD_NUMBER: _ClassVar[int]
    pin_enabled: bool
    def __init__(self, pin_enabled: _Optional[bool] = ...) -> None: ...

class ApplyForCardsBatchRequest(_message.Message):
    __slots__ = ("request_id", "employer_unit_id", "person_ids")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    EMPLOYER_UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_IDS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    employer_unit_id: str
    person_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, request_id: _Optional[str] = ..., employer_unit_id: _Optional[str] = ..., person_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchOutcome(_message.Message):
    __slots__ = ("person_id", "card", "refusal_reason")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_FIELD_NUMBER: _ClassVar[int]
    REFUSAL_REASON_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    card: Card
    refusal_reason: str
    def __init__(self, person_id: _Optional[str] = ..., card: _Optional[_Union[Card, _Mapping]] = ..., refusal_reason: _Optional[str] = ...) -> None: ...

class ApplyForCardsBatchResponse(_message.Message):
    __slots__ = ("outcomes",)
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[BatchOutcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[BatchOutcome, _Mapping]]] = ...) -> None: ...

class RecordProductionFailureRequest(_message.Message):
    __slots__ = ("request_id", "card_no", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    card_no: str
    reason: FailureReason
    def __init__(self, request_id: _Optional[str] = ..., card_no: _Optional[str] = ..., reason: _Optional[_Union[FailureReason, str]] = ...) -> None: ...

class RecordProductionFailureResponse(_message.Message):
    __slots__ = ("card",)
    CARD_FIELD_NUMBER: _ClassVar[int]
    card: Card
    def __init__(self, card: _Optional[_Union[Card, _Mapping]] = ...) -> None: ...

class RecallCardRequest(_message.Message):
    __slots__ = ("request_id", "card_no", "what_is_wrong")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    WHAT_IS_WRONG_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    card_no: str
    what_is_wrong: str
    def __init__(self, request_id: _Optional[str] = ..., card_no: _Optional[str] = ..., what_is_wrong: _Optional[str] = ...) -> None: ...

class RecallCardResponse(_message.Message):
    __slots__ = ("recalled", "remake")
    RECALLED_FIELD_NUMBER: _ClassVar[int]
    REMAKE_FIELD_NUMBER: _ClassVar[int]
    recalled: Card
    remake: Card
    def __init__(self, recalled: _Optional[_Union[Card, _Mapping]] = ..., remake: _Optional[_Union[Card, _Mapping]] = ...) -> None: ...

class UnlockCardRequest(_message.Message):
    __slots__ = ("request_id", "card_no", "citizen_id", "agent")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    CITIZEN_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    card_no: str
    citizen_id: str
    agent: _agent_pb2.Agent
    def __init__(self, request_id: _Optional[str] = ..., card_no: _Optional[str] = ..., citizen_id: _Optional[str] = ..., agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ...) -> None: ...

class UnlockCardResponse(_message.Message):
    __slots__ = ("card",)
    CARD_FIELD_NUMBER: _ClassVar[int]
    card: Card
    def __init__(self, card: _Optional[_Union[Card, _Mapping]] = ...) -> None: ...

class ResetPinRequest(_message.Message):
    __slots__ = ("request_id", "card_no", "citizen_id", "agent")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    CITIZEN_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    card_no: str
    citizen_id: str
    agent: _agent_pb2.Agent
    def __init__(self, request_id: _Optional[str] = ..., card_no: _Optional[str] = ..., citizen_id: _Optional[str] = ..., agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ...) -> None: ...

class ResetPinResponse(_message.Message):
    __slots__ = ("card",)
    CARD_FIELD_NUMBER: _ClassVar[int]
    card: Card
    def __init__(self, card: _Optional[_Union[Card, _Mapping]] = ...) -> None: ...

class QueryProgressRequest(_message.Message):
    __slots__ = ("name", "citizen_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CITIZEN_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    citizen_id: str
    def __init__(self, name: _Optional[str] = ..., citizen_id: _Optional[str] = ...) -> None: ...

class QueryProgressResponse(_message.Message):
    __slots__ = ("cards",)
    CARDS_FIELD_NUMBER: _ClassVar[int]
    cards: _containers.RepeatedCompositeFieldContainer[Card]
    def __init__(self, cards: _Optional[_Iterable[_Union[Card, _Mapping]]] = ...) -> None: ...

class IssueElectronicCardTokenRequest(_message.Message):
    __slots__ = ("card_no", "pin")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    PIN_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    pin: str
    def __init__(self, card_no: _Optional[str] = ..., pin: _Optional[str] = ...) -> None: ...

class IssueElectronicCardTokenResponse(_message.Message):
    __slots__ = ("token", "expires_at")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    token: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, token: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
