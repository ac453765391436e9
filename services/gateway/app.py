"""The web gateway: sscard's channel RPCs over HTTP/JSON, the citizens' self-service pages and the
outlet clerk's console (Starlette).

It holds no authority of its own over anyone's records: every API call goes to the gRPC service
with the caller's credential — `Authorization: Bearer <JWT>` from an app or partner, or the
session cookie a sign-in set — and the service's policy table decides, its audit trail naming the
signed-in person. What the gateway adds:

- the mapping (routes.py, from the protos' google.api.http annotations) and `/openapi.json`;
- sign-in through identity providers (idp.py): a citizen's real-name login, a clerk's staff login;
  `make run` uses the development providers;
- the pickup certificate (领卡证明) as a PDF (certificate.py);
- the public progress query by name + ID number (Guangxi 十五), asked with the gateway's own
  service credential when no one is signed in.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route as HttpRoute
from starlette.staticfiles import StaticFiles

from services.client import MeshClient
from services.common.access import ID_DOCUMENT_HEADER
from services.common.server import error_info
from services.common.trust import Signer
from services.gateway import certificate, idp
from services.gateway.routes import HTTP_STATUS, Route, openapi, routes

log = logging.getLogger("sscard.gateway")
STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "sscard_session"
FORWARDED = (ID_DOCUMENT_HEADER, "traceparent")


# Every answer: no framing, no sniffing, no referrer; scripts and styles from this origin only (the
# pages have no inline script). Personal data is never cached. (HSTS is the production ingress's to
# set for its public host name: sent from here it would pin every localhost port of a developer.)
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders:
    """ASGI middleware adding SECURITY_HEADERS, and `no-store` on the API and sign-in answers."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = scope["path"].startswith(("/v1/", "/auth/"))

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS, *((NO_STORE,) if private else ())]
            await send(message)

        await self.app(scope, receive, send_with_headers)


# The largest request body read (the biggest channel request is a few hundred bytes of JSON).
MAX_BODY_BYTES = 64 * 1024


class BodyTooLarge(Exception):
    pass


def error(status: str, reason: str, message: str, field: str = "", code: int = 0) -> JSONResponse:
    body: dict[str, Any] = {"code": code or HTTP_STATUS[status], "status": status, "reason": reason, "message": message}
    if field:
        body["field"] = field
    return JSONResponse({"error": body}, status_code=body["code"])


async def read_body(request: Request) -> bytes:
    """The request body, refused past MAX_BODY_BYTES whether or not the client declared its length."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def too_large() -> JSONResponse:
    return error("INVALID_ARGUMENT", "BODY_TOO_LARGE", f"request bodies are at most {MAX_BODY_BYTES} bytes", code=413)


def from_rpc_error(failure: grpc.aio.AioRpcError) -> JSONResponse:
    info = error_info(failure)
    reason, field = (info.reason, info.metadata.get("field", "")) if info is not None else (failure.code().name, "")
    return error(failure.code().name, reason, failure.details() or reason, field)


def to_json(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(message, always_print_fields_with_no_presence=True, preserving_proto_field_name=True)


class Gateway:
    def __init__(self, targets: dict[str, str], pki_dir: Path, signer: Signer, providers: idp.Providers | None = None,
                 secure_cookies: bool = True) -> None:
        self.targets, self.pki_dir = targets, pki_dir
        self.mesh: MeshClient | None = None  # opened on the server's event loop (lifespan)
        self.signer = signer
        self.providers = providers
        self.secure_cookies = secure_cookies
        self.routes = routes()
        self._calls: dict[str, Any] = {}

    # --- the mapping -------------------------------------------------------------------------

    def call(self, route: Route) -> Any:
        if self.mesh is None:
            self.mesh = MeshClient(self.targets, pki_dir=self.pki_dir)
        if route.grpc_path not in self._calls:
            self._calls[route.grpc_path] = self.mesh.channels[route.service].unary_unary(
                route.grpc_path, request_serializer=lambda m: m.SerializeToString(), response_deserializer=route.response_class().FromString)
        return self._calls[route.grpc_path]

    def credential(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        if header.startswith("Bearer "):
            return header
        token = request.cookies.get(SESSION_COOKIE, "")
        return f"Bearer {token}" if token else ""

    def metadata(self, route: Route, request: Request) -> tuple[tuple[str, str], ...]:
        """What a call to a service carries: the caller's credential (or, for the public progress query
        only, the gateway's own), the ID document a clerk entered, the trace."""
        authorization = self.credential(request)
        if not authorization and route.method.name == "QueryProgress":
            authorization = self.service_credential(route.service)  # the public query by name + ID number
        forwarded = [(h, request.headers[h]) for h in FORWARDED if request.headers.get(h)]
        return tuple(forwarded + ([("authorization", authorization)] if authorization else []))

    def route(self, rpc: str) -> Route:
        return next(r for r in self.routes if r.method.name == rpc)

    def service_credential(self, audience: str) -> str:
        """The gateway's own credential (a `service` principal named gateway), for the acts no one signs in for."""
        return "Bearer " + self.signer.mint("service", "gateway", audience, ttl_s=120)

    async def invoke(self, route: Route, request: Request, body: dict[str, Any]) -> Response:
        message = route.request_class()()
        try:
            json_format.ParseDict(body, message)
        except json_format.ParseError as failure:
            return error("INVALID_ARGUMENT", "INVALID_JSON_FIELD", str(failure), _field_of(str(failure)))
        for name in route.path_params:
            setattr(message, name, request.path_params[name])
        try:
            response = await self.call(route)(message, metadata=self.metadata(route, request), timeout=10)
        except grpc.aio.AioRpcError as failure:
            return from_rpc_error(failure)
        return JSONResponse(to_json(response))

    def endpoint(self, route: Route) -> Any:
        async def handle(request: Request) -> Response:
            if route.body == "*":
                if request.cookies.get(SESSION_COOKIE) and not request.headers.get("content-type", "").startswith("application/json"):
                    # A cross-site form cannot send JSON without the browser asking first (CORS): no CSRF.
                    return error("INVALID_ARGUMENT", "JSON_REQUIRED", "send the request as application/json")
                parsed = await _json(request)
                if isinstance(parsed, Response):
                    return parsed
                body = {k: v for k, v in parsed.items() if k not in route.path_params}
            else:
                body = dict(request.query_params)
            return await self.invoke(route, request, body)

        handle.__name__ = route.operation_id
        return handle

    # --- sign-in ------------------------------------------------------------------------------

    def _session(self, response: JSONResponse, token: str, ttl_s: int) -> JSONResponse:
        response.set_cookie(SESSION_COOKIE, token, max_age=ttl_s, httponly=True, secure=self.secure_cookies, samesite="strict", path="/")
        return response

    async def sign_in_citizen(self, request: Request) -> Response:
        if self.providers is None:
            return error("NOT_FOUND", "NO_PROVIDER", "sign in with the region's real-name provider")
        form = await _json(request)
        if isinstance(form, Response):
            return form
        try:
            signed = await self.providers.citizen(self, str(form.get("name", "")), str(form.get("citizen_id", "")))
        except idp.SignInRefused as refused:
            return error(refused.status, refused.reason, refused.message, refused.field)
        except grpc.aio.AioRpcError as failure:
            return from_rpc_error(failure)
        return self._session(JSONResponse(signed.public), signed.token, signed.ttl_s)

    async def sign_in_staff(self, request: Request) -> Response:
        if self.providers is None:
            return error("NOT_FOUND", "NO_PROVIDER", "sign in with your organisation's staff login")
        form = await _json(request)
        if isinstance(form, Response):
            return form
        try:
            signed = self.providers.staff(str(form.get("operator_id", "")), str(form.get("outlet", "")), str(form.get("password", "")))
        except idp.SignInRefused as refused:
            return error(refused.status, refused.reason, refused.message, refused.field)
        return self._session(JSONResponse(signed.public), signed.token, signed.ttl_s)

    async def sign_out(self, request: Request) -> Response:
        response = JSONResponse({"signed_out": True})
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    async def me(self, request: Request) -> Response:
        token = request.cookies.get(SESSION_COOKIE, "")
        claims = idp.claims_of(token) if token else None
        return JSONResponse(claims or {"kind": ""})  # {"kind": ""}: no one is signed in

    # --- documents ----------------------------------------------------------------------------

    async def pickup_certificate(self, request: Request) -> Response:
        get_card = self.route("GetCard")
        card_no = request.path_params["card_no"]
        try:
            response = await self.call(get_card)(get_card.request_class()(card_no=card_no), metadata=self.metadata(get_card, request), timeout=10)
        except grpc.aio.AioRpcError as failure:
            return from_rpc_error(failure)
        try:
            pdf = certificate.render(response.card, lang=request.query_params.get("lang", "zh"))
        except certificate.NoCertificate as missing:
            return error("FAILED_PRECONDITION", "NO_PICKUP_CERTIFICATE", str(missing))
        return Response(pdf, media_type="application/pdf",
                        headers={"content-disposition": f'attachment; filename="pickup-certificate-{card_no}.pdf"'})

    async def openapi_json(self, request: Request) -> Response:
        document = openapi("/")
        document["paths"].update(GATEWAY_PATHS)
        return JSONResponse(document)

    async def close(self) -> None:
        if self.mesh is not None:
            await self.mesh.close()
            self.mesh, self._calls = None, {}

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await self.close()

    def app(self) -> Starlette:
        api = [HttpRoute(r.template, self.endpoint(r), methods=[r.verb.upper()]) for r in self.routes]
        pages = [
            HttpRoute("/", lambda request: RedirectResponse("/citizen")),
            HttpRoute("/citizen", lambda request: FileResponse(STATIC / "citizen.html")),
            HttpRoute("/clerk", lambda request: FileResponse(STATIC / "clerk.html")),
            HttpRoute("/favicon.ico", lambda request: Response(status_code=204)),
            HttpRoute("/healthz", lambda request: JSONResponse({"status": "SERVING"})),
            HttpRoute("/openapi.json", self.openapi_json),
            HttpRoute("/auth/citizen", self.sign_in_citizen, methods=["POST"]),
            HttpRoute("/auth/staff", self.sign_in_staff, methods=["POST"]),
            HttpRoute("/auth/signout", self.sign_out, methods=["POST"]),
            HttpRoute("/auth/me", self.me),
            HttpRoute("/v1/cards/{card_no}/pickup-certificate.pdf", self.pickup_certificate),
            Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        ]
        return Starlette(routes=[*pages, *api], lifespan=self.lifespan, middleware=[Middleware(SecurityHeaders)])


def _operation(operation_id: str, summary: str, body: dict[str, Any] | None = None, content: str = "application/json",
               parameters: tuple[str, ...] = ()) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id, "tags": ["gateway"], "summary": summary,
        "parameters": [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in parameters],
        "responses": {"200": {"description": "OK", "content": {content: {"schema": {"type": "string", "format": "binary"} if content != "application/json" else {"type": "object"}}}},
                      "default": {"description": "refused: see `reason`", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "properties": {k: {"type": "string"} for k in body}, "required": list(body)}}}}
    return operation


# The gateway's own routes (not RPCs): sign-in through the identity providers and the certificate PDF.
GATEWAY_PATHS = {
    "/auth/citizen": {"post": _operation("SignInCitizen", "a citizen's real-name sign-in (development provider); sets the session cookie",
                                         {"name": "", "citizen_id": ""})},
    "/auth/staff": {"post": _operation("SignInStaff", "a clerk's staff sign-in (development provider); sets the session cookie",
                                       {"operator_id": "", "outlet": "", "password": ""})},
    "/auth/signout": {"post": _operation("SignOut", "ends the session")},
    "/auth/me": {"get": _operation("WhoAmI", "the signed-in principal's claims ({\"kind\": \"\"} when no one is signed in)")},
    "/v1/cards/{card_no}/pickup-certificate.pdf": {"get": _operation(
        "GetPickupCertificate", "the pickup certificate (领卡证明) of a card not yet collected, as a PDF", content="application/pdf", parameters=("card_no",))},
}


async def _json(request: Request) -> dict[str, Any] | Response:
    try:
        body = json.loads(await read_body(request) or b"{}")
    except BodyTooLarge:
        return too_large()
    except ValueError:
        return error("INVALID_ARGUMENT", "MALFORMED_JSON", "the request body is not JSON")
    return body if isinstance(body, dict) else error("INVALID_ARGUMENT", "MALFORMED_JSON", "the request body must be a JSON object")


def _field_of(message: str) -> str:
    for marker in ('no field named "', 'Failed to parse ', 'field "'):
        if marker in message:
            return message.split(marker, 1)[1].split('"')[0].split(" ")[0]
    return ""
