from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Agent(_message.Message):
    __slots__ = ("citizen_id", "name", "relationship", "entrustment_ref")
    CITIZEN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RELATIONSHIP_FIELD_NUMBER: _ClassVar[int]
    ENTRUSTMENT_REF_FIELD_NUMBER: _ClassVar[int]
    citizen_id: str
    name: str
    relationship: str
    entrustment_ref: str
    def __init__(self, citizen_id: _Optional[str] = ..., name: _Optional[str] = ..., relationship: _Optional[str] = ..., entrustment_ref: _Optional[str] = ...) -> None: ...
