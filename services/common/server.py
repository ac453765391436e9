"""gRPC server bootstrap: health, reflection, error mapping, graceful shutdown.

Servicers raise SscardError subclasses; the guard around every RPC (`guard`) turns them into a
google.rpc.Status carrying a google.rpc.ErrorInfo(reason=..., domain="sscard"),
so clients read a machine-readable reason, never parse a message string.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf import any_pb2, message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from services.common import access as access_
from services.common import observability, tracing
from services.common.access import Access
from services.common.citizen_id import normalise_citizen_ids
from services.common.errors import InvalidArgument, PermissionDenied, SscardError

log = logging.getLogger("sscard.grpc")

ERROR_DOMAIN = "sscard"


# Errors often quote the offending input; a hostile 5,000-character value must not blow the
# client's 8 KiB trailer limit (which would turn a precise refusal into RESOURCE_EXHAUSTED).
MAX_MESSAGE_CHARS = 200
MAX_METADATA_CHARS = 64


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def to_status(error: SscardError) -> grpc.Status:
    info = any_pb2.Any()
    metadata = {key: _clip(str(value), MAX_METADATA_CHARS) for key, value in error.metadata.items()}
    info.Pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN, metadata=metadata))
    return rpc_status.to_status(
        status_pb2.Status(code=getattr(code_pb2, error.code), message=_clip(error.message, MAX_MESSAGE_CHARS), details=[info])
    )


def error_info(error: grpc.RpcError) -> error_details_pb2.ErrorInfo | None:
    """Client side: the ErrorInfo of a failed call (reason, and metadata such as `field`), if any."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    if status is None:
        return None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    return None


def error_reason(error: grpc.RpcError) -> str | None:
    """Client side: the ErrorInfo reason of a failed call, if any."""
    info = error_info(error)
    return info.reason if info is not None else None


MAX_TEXT_CHARS = 4096


def check_text(request: message.Message, prefix: str = "") -> None:
    """Every string field of a request: no NUL or other C0 control characters except tab and
    newlines (PostgreSQL cannot store NUL; no card, ID or name contains them) and at most
    MAX_TEXT_CHARS characters. Column-specific limits are checked at write time (db.check_lengths)."""
    for field, value in request.ListFields():
        path = prefix + field.name
        if field.type == field.TYPE_STRING:
            for text in (value if field.is_repeated else (value,)):
                if len(text) > MAX_TEXT_CHARS:
                    raise InvalidArgument("FIELD_TOO_LONG", f"{path} is longer than {MAX_TEXT_CHARS} characters", field=path)
                if _CONTROL.search(text):
                    raise InvalidArgument("INVALID_CHARACTERS", f"{path} contains control characters", field=path)
        elif field.type == field.TYPE_MESSAGE and not field.message_type.GetOptions().map_entry:
            for item in (value if field.is_repeated else (value,)):
                check_text(item, path + ".")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def guard(method: str, handler: grpc.RpcMethodHandler, access: Access | None, observe: str = "") -> grpc.RpcMethodHandler:
    """The one wrapper of every sscard RPC, built once per method when the service is added:
    authenticates and authorises the call (access.py), checks its text, maps domain errors to
    rich statuses and hides internal errors' details; with `observe` (the service's name), one
    metric sample and one JSON log line per call (observability.py).

    Built at registration rather than as a grpc.aio interceptor: an interceptor runs its coroutine
    chain and builds a new handler on every call, which cost settlement a measurable share of its
    CPU per call (issue 15)."""
    if access_.is_open(method):
        return handler
    if handler.unary_unary is None:
        # Every sscard RPC is unary: a streaming method outside the open ops services is refused.
        async def refuse(request: Any, context: grpc.aio.ServicerContext) -> None:
            await context.abort_with_status(to_status(PermissionDenied("NO_POLICY", f"{method} has no entry in the policy table")))

        return grpc.unary_unary_rpc_method_handler(refuse)
    inner = handler.unary_unary
    name = method.rsplit("/", 1)[-1]
    record = observability.rpc_recorder(observe, name) if observe else None

    async def served(request: Any, context: grpc.aio.ServicerContext, metadata: tuple[Any, ...]) -> Any:
        token = None
        try:
            grant = None
            if access is not None:
                grant = access.authorize(method, request, metadata)
                token = Access.enter(grant)
            check_text(request)
            normalise_citizen_ids(request)
            response = await inner(request, context)
            if grant is not None and grant.pending and not grant.subject_checked:
                log.error("%s returned without checking %s for a %s", method, grant.pending, grant.principal.kind)
                raise PermissionDenied("SUBJECT_NOT_CHECKED", "the service could not establish whose record this is")
            return response
        except SscardError as error:
            tracing.failed(error.reason)
            await context.abort_with_status(to_status(error))
        except (grpc.RpcError, grpc.aio.AbortError):
            raise
        except Exception:
            log.exception("unhandled error in %s", method)
            await context.abort_with_status(to_status(SscardError("INTERNAL", "internal error")))
        finally:
            if token is not None:
                access_.reset(token)

    async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
        metadata = context.invocation_metadata() or ()
        started = time.perf_counter()
        code = "OK"
        try:
            if tracing.ENABLED:
                with tracing.server_span(method, metadata):
                    return await served(request, context, metadata)
            return await served(request, context, metadata)
        except BaseException:
            code = context.code().name if context.code() is not None else "UNKNOWN"
            raise
        finally:
            if record is not None:
                record(request, context, metadata, code, time.perf_counter() - started)

    return grpc.unary_unary_rpc_method_handler(
        unary, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer,
    )


class _Registrar:
    """The server as a generated `add_<Service>Servicer_to_server` sees it: the handlers it
    registers by name are wrapped once (guard) and registered on the real server."""

    def __init__(self, owner: "GrpcServer") -> None:
        self.owner = owner
        self.registered: list[str] = []

    def add_generic_rpc_handlers(self, handlers: Any) -> None:
        """The generated adder passes the same handlers to add_registered_method_handlers next."""

    def add_registered_method_handlers(self, service: str, handlers: dict[str, grpc.RpcMethodHandler]) -> None:
        owner = self.owner
        wrapped = {name: guard(f"/{service}/{name}", h, owner.access, owner.observe) for name, h in handlers.items()}
        owner.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, wrapped),))
        owner.server.add_registered_method_handlers(service, wrapped)
        self.registered.append(service)


class GrpcServer:
    """A grpc.aio server with the standard ops services.

    `register` receives the server and returns the full names of the
    services it added, so reflection and health list exactly those.
    """

    def __init__(
        self,
        address: str,
        access: Access | None = None,
        observe: str = "",
        tls: grpc.ServerCredentials | None = None,
        max_receive_bytes: int = 1024 * 1024,
        max_concurrent_rpcs: int = 256,
    ) -> None:
        self.address = address
        self.tls = tls
        self.access = access
        self.observe = observe
        self.server = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", max_receive_bytes),
                ("grpc.max_concurrent_streams", 100),
                ("grpc.so_reuseport", 0),
            ],
            # Beyond this many calls in flight a caller gets RESOURCE_EXHAUSTED: memory stays bounded.
            maximum_concurrent_rpcs=max_concurrent_rpcs,
        )
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.service_names: list[str] = []
        self.port = 0

    def add(self, adder: Callable[[Any, grpc.aio.Server], None], servicer: Any, full_name: str) -> None:
        """Add a service through its generated adder, every method behind `guard`."""
        registrar = _Registrar(self)
        adder(servicer, registrar)  # type: ignore[arg-type]
        if registrar.registered != [full_name]:
            raise RuntimeError(f"{full_name}: the generated adder registered {registrar.registered} (regenerate the protos)")
        self.service_names.append(full_name)

    async def start(self) -> int:
        reflection.enable_server_reflection(
            [*self.service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
            self.server,
        )
        if self.tls is not None:
            self.port = self.server.add_secure_port(self.address, self.tls)
        else:
            self.port = self.server.add_insecure_port(self.address)
        if self.port == 0:
            raise RuntimeError(f"cannot bind {self.address}")
        await self.server.start()
        for name in ["", *self.service_names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        return self.port

    async def stop(self, grace: float = 5.0) -> None:
        for name in ["", *self.service_names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.stop(grace)


def from_rpc_error(error: grpc.aio.AioRpcError) -> SscardError:
    """Turn a peer service's refusal into our own error, keeping code and reason."""
    failure = SscardError(error_reason(error) or "PEER_UNAVAILABLE", error.details() or "peer call failed")
    failure.code = error.code().name if error.code() != grpc.StatusCode.DEADLINE_EXCEEDED else "UNAVAILABLE"
    return failure
