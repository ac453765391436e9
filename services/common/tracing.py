"""OpenTelemetry tracing across the mesh: a span per gRPC call served and made, the W3C
`traceparent` carried by every event (in its envelope through the outbox, and as a NATS header),
and a span per event a consumer applies — so one trace runs from, say, a hotline agent's loss
report through the loss service's outbox, JetStream and settlement's consumer that stops the card.

Off unless `SSCARD_OTEL_EXPORTER` names an exporter (`console`, or `otlp`: the OTLP/gRPC exporter,
which reads the standard `OTEL_EXPORTER_OTLP_ENDPOINT` and friends). While off, every hook is one
flag test: the settlement hot path pays nothing for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

ENABLED = False
TRACEPARENT = "traceparent"
_NOTHING = contextlib.nullcontext()


def configure(exporter: str, processor: SpanProcessor | None = None) -> bool:
    """Install a tracer provider once per process (`exporter`: none, console, otlp; or a
    `processor` of the caller's, e.g. an in-memory exporter in tests). True if tracing is on."""
    global ENABLED
    if processor is None:
        if exporter == "none":
            return ENABLED
        if exporter == "console":
            processor = BatchSpanProcessor(ConsoleSpanExporter())
        elif exporter == "otlp":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            processor = BatchSpanProcessor(OTLPSpanExporter())
        else:
            raise ValueError(f"unknown trace exporter {exporter!r}")
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider(resource=Resource.create({"service.name": "sscard"}))
        trace.set_tracer_provider(provider)
    provider.add_span_processor(processor)
    ENABLED = True
    return True


def _tracer() -> trace.Tracer:
    return trace.get_tracer("sscard")


def _carrier(metadata: Iterable[tuple[str, Any]]) -> dict[str, str]:
    return {k: v for k, v in metadata if k == TRACEPARENT and isinstance(v, str)}


def server_span(method: str, metadata: Iterable[tuple[str, Any]]) -> Any:
    """The span of a call served, continuing the caller's trace (its `traceparent` metadata)."""
    if not ENABLED:
        return _NOTHING
    service = method.split(".")[1] if method.startswith("/sscard.") else ""
    return _tracer().start_as_current_span(
        method.rsplit("/", 1)[-1], context=propagate.extract(_carrier(metadata)), kind=SpanKind.SERVER,
        attributes={"rpc.system": "grpc", "rpc.method": method, "sscard.service": service})


def failed(reason: str) -> None:
    """Mark the current span failed with an sscard reason (a refusal is an answer, not a crash)."""
    if ENABLED:
        span = trace.get_current_span()
        span.set_attribute("sscard.reason", reason)
        span.set_status(Status(StatusCode.ERROR, reason))


def caused_by(traceparent: str, reason: str) -> None:
    """A refusal because of an earlier act in another trace (a settlement refused because of a loss
    report): a short span in the current trace, linked to the trace of that act."""
    if not ENABLED or not traceparent:
        return
    cause = trace.get_current_span(propagate.extract({TRACEPARENT: traceparent})).get_span_context()
    with _tracer().start_as_current_span(f"refused: {reason}", links=[trace.Link(cause)], attributes={"sscard.reason": reason}):
        pass


def outgoing() -> tuple[tuple[str, str], ...]:
    """The current trace as call metadata (a peer call, a test's client)."""
    if not ENABLED:
        return ()
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return tuple(carrier.items())


def current_traceparent() -> str:
    """What an event written now carries in its envelope (empty while tracing is off)."""
    return dict(outgoing()).get(TRACEPARENT, "")


def nats_headers(traceparent: str) -> dict[str, str]:
    return {TRACEPARENT: traceparent} if ENABLED and traceparent else {}


@contextlib.contextmanager
def consumer_span(service: str, event_type: str, headers: dict[str, str] | None, traceparent: str) -> Iterator[None]:
    """The span of an event being applied: a child of the span that wrote it (NATS header, or the envelope)."""
    if not ENABLED:
        yield
        return
    parent = (headers or {}).get(TRACEPARENT) or traceparent
    with _tracer().start_as_current_span(f"apply {event_type}", context=propagate.extract({TRACEPARENT: parent} if parent else {}),
                                         kind=SpanKind.CONSUMER,
                                         attributes={"messaging.system": "nats", "sscard.service": service, "sscard.event_type": event_type}):
        yield


def disable() -> None:
    """Hooks off again (tests that turned tracing on for themselves)."""
    global ENABLED
    ENABLED = False
