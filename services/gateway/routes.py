"""The HTTP/JSON mapping of the channel RPCs, read from the protos' `google.api.http` annotations.

One source for three readers: this gateway's routes, the OpenAPI document it serves, and in
production Envoy's gRPC-JSON transcoder or grpc-gateway (they read the same annotations). JSON
field names are the protos' own (snake_case), enums by name, int64 money as a string of fen
(protobuf's canonical JSON mapping), as `json_format` writes and reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor, symbol_database
from google.protobuf.descriptor import FieldDescriptor

from sscard.cards.v1 import cards_pb2
from sscard.identity.v1 import identity_pb2
from sscard.loss.v1 import loss_pb2
from sscard.settlement.v1 import settlement_pb2

SERVICES = {  # the gRPC service each sscard service serves, and the target it is reached at
    "identity": identity_pb2.DESCRIPTOR.services_by_name["IdentityService"],
    "cards": cards_pb2.DESCRIPTOR.services_by_name["CardService"],
    "loss": loss_pb2.DESCRIPTOR.services_by_name["LossService"],
    "settlement": settlement_pb2.DESCRIPTOR.services_by_name["SettlementService"],
}
_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Route:
    verb: str  # get | post
    template: str  # /v1/cards/{card_no}:handOut
    body: str  # "*" or ""
    service: str  # identity | cards | loss | settlement
    method: descriptor.MethodDescriptor

    @property
    def grpc_path(self) -> str:
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    @property
    def path_params(self) -> list[str]:
        return _PARAM.findall(self.template)

    @property
    def operation_id(self) -> str:
        return self.method.name if not self.template.endswith(":lookup") else self.method.name + "ByCitizenId"

    def request_class(self) -> Any:
        return symbol_database.Default().GetSymbol(self.method.input_type.full_name)

    def response_class(self) -> Any:
        return symbol_database.Default().GetSymbol(self.method.output_type.full_name)


def _bindings(rule: http_pb2.HttpRule) -> list[tuple[str, str, str]]:
    found = []
    for candidate in (rule, *rule.additional_bindings):
        verb = candidate.WhichOneof("pattern")
        if verb in ("get", "post", "put", "patch", "delete"):
            found.append((verb, getattr(candidate, verb), candidate.body))
    return found


def routes() -> list[Route]:
    """Every annotated RPC, with each of its bindings."""
    found = []
    for service, service_descriptor in SERVICES.items():
        for method in service_descriptor.methods:
            options = method.GetOptions()
            if not options.HasExtension(annotations_pb2.http):
                continue
            for verb, template, body in _bindings(options.Extensions[annotations_pb2.http]):
                found.append(Route(verb, template, body, service, method))
    return found


# --- OpenAPI 3.1 -------------------------------------------------------------------------------

_SCALARS = {
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer", "format": "int32", "minimum": 0},
    # protobuf's JSON mapping writes 64-bit integers as strings (and reads either)
    FieldDescriptor.TYPE_INT64: {"type": ["string", "integer"], "format": "int64"},
    FieldDescriptor.TYPE_UINT64: {"type": ["string", "integer"], "format": "int64"},
    FieldDescriptor.TYPE_SINT64: {"type": ["string", "integer"], "format": "int64"},
    FieldDescriptor.TYPE_DOUBLE: {"type": "number"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every refusal: the gRPC status, its HTTP code and the machine-readable reason (google.rpc.ErrorInfo); "
                   "`field` names the request field at fault when there is one. Nothing was written.",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "status", "reason", "message"],
        "properties": {
            "code": {"type": "integer", "description": "HTTP status code"},
            "status": {"type": "string", "description": "gRPC status code name, e.g. INVALID_ARGUMENT", "examples": ["INVALID_ARGUMENT"]},
            "reason": {"type": "string", "description": "machine-readable reason, e.g. INVALID_CITIZEN_ID, CARD_REPORTED_LOST"},
            "field": {"type": "string", "description": "the request field at fault (JSON name), when there is one"},
            "message": {"type": "string", "description": "in words, for a person"},
        },
    }},
}
# google.rpc.Code -> HTTP, as grpc-gateway and Envoy's transcoder map them.
HTTP_STATUS = {
    "OK": 200, "CANCELLED": 499, "UNKNOWN": 500, "INVALID_ARGUMENT": 400, "DEADLINE_EXCEEDED": 504, "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409, "PERMISSION_DENIED": 403, "UNAUTHENTICATED": 401, "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400, "ABORTED": 409, "OUT_OF_RANGE": 400, "UNIMPLEMENTED": 501, "INTERNAL": 500,
    "UNAVAILABLE": 503, "DATA_LOSS": 500,
}


def _schema_name(message: descriptor.Descriptor) -> str:
    return message.full_name


def _field_schema(field: FieldDescriptor, schemas: dict[str, Any]) -> dict[str, Any]:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        value = field.message_type.fields_by_name["value"]
        return {"type": "object", "additionalProperties": _field_schema(value, schemas)}
    if field.message_type is not None:
        if field.message_type.full_name == "google.protobuf.Timestamp":
            single: dict[str, Any] = {"type": "string", "format": "date-time"}
        else:
            _message_schema(field.message_type, schemas)
            single = {"$ref": f"#/components/schemas/{_schema_name(field.message_type)}"}
    elif field.enum_type is not None:
        single = {"type": "string", "enum": [v.name for v in field.enum_type.values]}
    else:
        single = dict(_SCALARS[field.type])
    if field.is_repeated:
        return {"type": "array", "items": single}
    return single


def _message_schema(message: descriptor.Descriptor, schemas: dict[str, Any], skip: tuple[str, ...] = ()) -> str:
    name = _schema_name(message) + ("Body" if skip else "")
    if name in schemas:
        return name
    schemas[name] = {}  # recursion guard
    schemas[name] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {f.name: _field_schema(f, schemas) for f in message.fields if f.name not in skip},
    }
    return name


def openapi(server_url: str = "/") -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route (what /openapi.json serves)."""
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, Any] = {}
    for route in routes():
        params = route.path_params
        operation: dict[str, Any] = {
            "operationId": route.operation_id,
            "tags": [route.service],
            "summary": route.method.name,
            "security": [{"bearer": []}, {"session": []}],
            "parameters": [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params],
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": {
                    "$ref": f"#/components/schemas/{_message_schema(route.method.output_type, schemas)}"}}}},
                "default": {"description": "refused: see `reason`", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        }
        operation["parameters"].append({"name": "x-sscard-id-document", "in": "header", "required": False, "schema": {"type": "string"},
                                        "description": "window acts: the ID document the clerk checked"})
        if route.body == "*":
            body = _message_schema(route.method.input_type, schemas, skip=tuple(params))
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}}}
        elif route.verb == "get":
            for f in route.method.input_type.fields:
                if f.name not in params and f.message_type is None and not f.is_repeated:
                    operation["parameters"].append({"name": f.name, "in": "query", "required": False, "schema": _field_schema(f, schemas)})
        paths.setdefault(route.template, {})[route.verb] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "sscard channel API", "version": "1.0.0",
                 "description": "The HTTP/JSON face of sscard's gRPC services for web, app and outlet channels, mapped by the "
                                "protos' google.api.http annotations. Every call carries a credential: `Authorization: Bearer <JWT>`, "
                                "or the session cookie a sign-in sets."},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "session": {"type": "apiKey", "in": "cookie", "name": "sscard_session"},
            },
        },
    }
