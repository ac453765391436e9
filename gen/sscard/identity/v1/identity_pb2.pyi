import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from sscard.type.v1 import agent_pb2 as _agent_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

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
    __slots__ = ("person_id", "citizen_id", "name", "gender", "birth_date", "region_code", "insured_category", "status", "employer_unit_id", "registered_at")
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
    def __init__(self, person_id: _Optional[str] = ..., citizen_id: _Optional[str] = ..., name: _Optional[str] = ..., gender: _Optional[_Union[Gender, str]] = ..., birth_date: _Optional[str] = ..., region_code: _Optional[str] = ..., insured_category: _Optional[_Union[InsuredCategory, str]] = ..., status: _Optional[_Union[PersonStatus, str]] = ..., employer_unit_id: _Optional[str] = ..., registered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

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
    __slots__ = ("request_id", "person_id", "date_of_death", "agent")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_DEATH_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    person_id: str
    date_of_death: str
    agent: _agent_pb2.Agent
    def __init__(self, request_id: _Optional[str] = ..., person_id: _Optional[str] = ..., date_of_death: _Optional[str] = ..., agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ...) -> None: ...

class RecordDeathResponse(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: Person
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...
