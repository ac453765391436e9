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

class TransferScope(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSFER_SCOPE_UNSPECIFIED: _ClassVar[TransferScope]
    TRANSFER_SCOPE_WITHIN_PROVINCE: _ClassVar[TransferScope]
    TRANSFER_SCOPE_OUT_OF_PROVINCE: _ClassVar[TransferScope]

class InsuredCategory(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INSURED_CATEGORY_UNSPECIFIED: _ClassVar[InsuredCategory]
    INSURED_CATEGORY_EMPLOYEE: _ClassVar[InsuredCategory]
    INSURED_CATEGORY_RESIDENT: _ClassVar[InsuredCategory]
    INSURED_CATEGORY_FLEXIBLE: _ClassVar[InsuredCategory]

class Gender(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GENDER_UNSPECIFIED: _ClassVar[Gender]
    GENDER_MALE: _ClassVar[Gender]
    GENDER_FEMALE: _ClassVar[Gender]

class PersonStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PERSON_STATUS_UNSPECIFIED: _ClassVar[PersonStatus]
    PERSON_STATUS_EMPLOYED: _ClassVar[PersonStatus]
    PERSON_STATUS_UNEMPLOYED: _ClassVar[PersonStatus]
    PERSON_STATUS_RETIRED: _ClassVar[PersonStatus]
    PERSON_STATUS_DECEASED: _ClassVar[PersonStatus]
TRANSFER_SCOPE_UNSPECIFIED: TransferScope
TRANSFER_SCOPE_WITHIN_PROVINCE: TransferScope
TRANSFER_SCOPE_OUT_OF_PROVINCE: TransferScope
INSURED_CATEGORY_UNSPECIFIED: InsuredCategory
INSURED_CATEGORY_EMPLOYEE: InsuredCategory
INSURED_CATEGORY_RESIDENT: InsuredCategory
INSURED_CATEGORY_FLEXIBLE: InsuredCategory
GENDER_UNSPECIFIED: Gender
GENDER_MALE: Gender
GENDER_FEMALE: Gender
PERSON_STATUS_UNSPECIFIED: PersonStatus
PERSON_STATUS_EMPLOYED: PersonStatus
PERSON_STATUS_UNEMPLOYED: PersonStatus
PERSON_STATUS_RETIRED: PersonStatus
PERSON_STATUS_DECEASED: PersonStatus

class Person(_message.Message):
    __slots__ = ("person_id", "citizen_id", "name", "gender", "birth_date", "region_code", "insured_category", "status", "employer_unit_id", "registered_at", "coverage_start")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    CITIZEN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    GENDER_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    INSURED_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EMPLOYER_UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_START_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    citizen_id: str
    name: str
    gender: Gender
    birth_date: str
    region_code: str
    insured_category: InsuredCategory
    status: PersonStatus
    employer_unit_id: str
    registered_at: _timestamp_pb2.Timestamp
    coverage_start: str
    def __init__(self, person_id: _Optional[str] = ..., citizen_id: _Optional[str] = ..., name: _Optional[str] = ..., gender: _Optional[_Union[Gender, str]] = ..., birth_date: _Optional[str] = ..., region_code: _Optional[str] = ..., insured_category: _Optional[_Union[InsuredCategory, str]] = ..., status: _Optional[_Union[PersonStatus, str]] = ..., employer_unit_id: _Optional[str] = ..., registered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., coverage_start: _Optional[str] = ...) -> None: ...

class EmployerUnit(_message.Message):
    __slots__ = ("unit_id", "name", "credit_code", "region_code")
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CREDIT_CODE_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    unit_id: str
    name: str
    credit_code: str
    region_code: str
    def __init__(self, unit_id: _Optional[str] = ..., name: _Optional[str] = ..., credit_code: _Optional[str] = ..., region_code: _Optional[str] = ...) -> None: ...

class RegisterPersonRequest(_message.Message):
    __slots__ = ("request_id", "citizen_id", "name", "region_code", "insured_category", "status", "employer_unit_id", "agent")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CITIZEN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    INSURED_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EMPLOYER_UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    citizen_id: str
    name: str
    region_code: str
    insured_category: InsuredCategory
    status: PersonStatus
    employer_unit_id: str
    agent: _agent_pb2.Agent
    def __init__(self, request_id: _Optional[str] = ..., citizen_id: _Optional[str] = ..., name: _Optional[str] = ..., region_code: _Optional[str] = ..., insured_category: _Optional[_Union[InsuredCategory, str]] = ..., status: _Optional[_Union[PersonStatus, str]] = ..., employer_unit_id: _Optional[str] = ..., agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ...) -> None: ...

class RegisterPersonResponse(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: Person
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...

class GetPersonRequest(_message.Message):
    __slots__ = ("person_id", "citizen_id")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    CITIZEN_ID_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    citizen_id: str
    def __init__(self, person_id: _Optional[str] = ..., citizen_id: _Optional[str] = ...) -> None: ...

class GetPersonResponse(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: Person
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...

class RecordDeathRequest(_message.Message):
    __slots__ = ("request_id", "person_id", "date_of_death", "agent", "death_certificate_ref")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_DEATH_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    DEATH_CERTIFICATE_REF_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    person_id: str
    date_of_death: str
    agent: _agent_pb2.Agent
    death_certificate_ref: str
    def __init__(self, request_id: _Optional[str] = ..., person_id: _Optional[str] = ..., date_of_death: _Optional[str] = ..., agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ..., death_certificate_ref: _Optional[str] = ...) -> None: ...

class RecordDeathResponse(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: Person
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...

class ChangeIdentityRequest(_message.Message):
    __slots__ = ("request_id", "person_id", "new_name", "new_citizen_id", "agent")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_NAME_FIELD_NUMBER: _ClassVar[int]
    NEW_CITIZEN_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    person_id: str
    new_name: str
    new_citizen_id: str
    agent: _agent_pb2.Agent
    def __init__(self, request_id: _Optional[str] = ..., person_id: _Optional[str] = ..., new_name: _Optional[str] = ..., new_citizen_id: _Optional[str] = ..., agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ...) -> None: ...

class ChangeIdentityResponse(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: Person
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...

class TransferInsuranceRequest(_message.Message):
    __slots__ = ("request_id", "person_id", "to_region_code", "scope", "agent", "transfer_certificate_ref")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    TO_REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_CERTIFICATE_REF_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    person_id: str
    to_region_code: str
    scope: TransferScope
    agent: _agent_pb2.Agent
    transfer_certificate_ref: str
    def __init__(self, request_id: _Optional[str] = ..., person_id: _Optional[str] = ..., to_region_code: _Optional[str] = ..., scope: _Optional[_Union[TransferScope, str]] = ..., agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ..., transfer_certificate_ref: _Optional[str] = ...) -> None: ...

class TransferInsuranceResponse(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: Person
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...

class CreateEmployerUnitRequest(_message.Message):
    __slots__ = ("request_id", "name", "credit_code", "region_code")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CREDIT_CODE_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    name: str
    credit_code: str
    region_code: str
    def __init__(self, request_id: _Optional[str] = ..., name: _Optional[str] = ..., credit_code: _Optional[str] = ..., region_code: _Optional[str] = ...) -> None: ...

class CreateEmployerUnitResponse(_message.Message):
    __slots__ = ("unit",)
    UNIT_FIELD_NUMBER: _ClassVar[int]
    unit: EmployerUnit
    def __init__(self, unit: _Optional[_Union[EmployerUnit, _Mapping]] = ...) -> None: ...

class ListUnitMembersRequest(_message.Message):
    __slots__ = ("unit_id",)
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    unit_id: str
    def __init__(self, unit_id: _Optional[str] = ...) -> None: ...

class ListUnitMembersResponse(_message.Message):
    __slots__ = ("persons",)
    PERSONS_FIELD_NUMBER: _ClassVar[int]
    persons: _containers.RepeatedCompositeFieldContainer[Person]
    def __init__(self, persons: _Optional[_Iterable[_Union[Person, _Mapping]]] = ...) -> None: ...
