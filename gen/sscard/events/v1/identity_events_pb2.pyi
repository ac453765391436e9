from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class PersonChanged(_message.Message):
    __slots__ = ("person_id", "citizen_id", "name", "birth_date", "region_code", "insured_category", "status", "date_of_death", "employer_unit_id", "previous_citizen_id", "previous_region_code", "transfer_scope")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    CITIZEN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    INSURED_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_DEATH_FIELD_NUMBER: _ClassVar[int]
    EMPLOYER_UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_CITIZEN_ID_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_SCOPE_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    citizen_id: str
    name: str
    birth_date: str
    region_code: str
    insured_category: str
    status: str
    date_of_death: str
    employer_unit_id: str
    previous_citizen_id: str
    previous_region_code: str
    transfer_scope: str
    def __init__(self, person_id: _Optional[str] = ..., citizen_id: _Optional[str] = ..., name: _Optional[str] = ..., birth_date: _Optional[str] = ..., region_code: _Optional[str] = ..., insured_category: _Optional[str] = ..., status: _Optional[str] = ..., date_of_death: _Optional[str] = ..., employer_unit_id: _Optional[str] = ..., previous_citizen_id: _Optional[str] = ..., previous_region_code: _Optional[str] = ..., transfer_scope: _Optional[str] = ...) -> None: ...
