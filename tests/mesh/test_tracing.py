"""OpenTelemetry across the mesh: one trace runs from a hotline agent's loss report (the caller's
span) through the loss service, its outbox, JetStream and settlement's consumer that stops the card;
a pharmacy's settlement refused in a trace of its own links to that loss report. Off, nothing is traced."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.client import eventually
from services.common import tracing
from sscard.events.v1 import envelope_pb2
from tests.harness import Mesh, nats_connect
from tests.mesh.test_loss import NAME, holder, temporary
from tests.mesh.test_story import check, settle


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.configure("none", SimpleSpanProcessor(exporter))
    try:
        yield exporter
    finally:
        tracing.disable()


async def test_a_loss_report_and_the_refusal_it_causes_are_one_trace(mesh: Mesh, spans: InMemorySpanExporter) -> None:
    client = await mesh.start()
    _, card_no, citizen_id = await holder(mesh, serial=41)
    nc = await nats_connect(mesh.nats_url)
    reported = await nc.jetstream().subscribe("sscard.loss.card.reported", ordered_consumer=True)
    with trace.get_tracer("test").start_as_current_span("hotline call") as root:
        await client.loss.ReportTemporaryLoss(temporary(card_no, "tr-1", citizen_id=citizen_id, name=NAME))
        await eventually(lambda: check(client, card_no), lambda r: r.refusal_reason == "CARD_REPORTED_LOST")
        with pytest.raises(grpc.aio.AioRpcError):
            await settle(client, card_no, 100, "tr-s1")
    trace_id = root.get_span_context().trace_id
    with trace.get_tracer("test").start_as_current_span("the pharmacy's next sale") as sale:  # its own trace
        with pytest.raises(grpc.aio.AioRpcError):
            await settle(client, card_no, 100, "tr-s2")
    message = await reported.next_msg(timeout=5)
    await nc.close()

    # The event carries the trace: in its envelope (through the outbox) and as a NATS header.
    envelope = envelope_pb2.Envelope.FromString(message.data)
    assert envelope.traceparent and f"{trace_id:032x}" in envelope.traceparent
    assert message.headers and message.headers.get("traceparent") == envelope.traceparent

    mine = [s for s in spans.get_finished_spans() if s.context.trace_id == trace_id]
    names = {(s.name, s.attributes.get("sscard.service")) for s in mine}
    assert ("ReportTemporaryLoss", "loss") in names  # served by the loss service, a child of the call
    assert ("apply card.reported", "settlement") in names  # applied by settlement's consumer, same trace
    refused = next(s for s in mine if s.name == "Settle")
    assert refused.attributes.get("sscard.reason") == "CARD_REPORTED_LOST" and not refused.status.is_ok
    # A refusal in another trace links to the loss report that caused it.
    theirs = [s for s in spans.get_finished_spans() if s.context.trace_id == sale.get_span_context().trace_id]
    cause = next(s for s in theirs if s.name == "refused: CARD_REPORTED_LOST")
    assert [link.context.trace_id for link in cause.links] == [trace_id]
    consumer = next(s for s in mine if s.name == "apply card.reported" and s.attributes.get("sscard.service") == "settlement")
    served = next(s for s in mine if s.name == "ReportTemporaryLoss")
    assert consumer.parent is not None and consumer.parent.trace_id == served.context.trace_id


async def test_while_tracing_is_off_events_carry_no_trace(mesh: Mesh) -> None:
    assert not tracing.ENABLED
    client = await mesh.start()
    _, card_no, citizen_id = await holder(mesh, serial=42)
    nc = await nats_connect(mesh.nats_url)
    reported = await nc.jetstream().subscribe("sscard.loss.card.reported", ordered_consumer=True)
    await client.loss.ReportTemporaryLoss(temporary(card_no, "tr-2", citizen_id=citizen_id, name=NAME))
    message = await reported.next_msg(timeout=5)
    await nc.close()
    assert envelope_pb2.Envelope.FromString(message.data).traceparent == ""
    assert "traceparent" not in (message.headers or {})
