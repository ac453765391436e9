"""Operating sscard: /metrics series move under traffic; logs are JSON and leak no ID or PIN."""

from __future__ import annotations

import json
import logging
import re
import urllib.request
from datetime import date

from prometheus_client.parser import text_string_to_metric_families

from services.client import eventually
from services.common.citizen_id import make_citizen_id
from services.common.natsd import free_port
from services.common.observability import JsonFormatter, mask
from sscard.cards.v1 import cards_pb2
from sscard.identity.v1 import identity_pb2
from sscard.loss.v1 import loss_pb2
from sscard.settlement.v1 import settlement_pb2 as spb
from tests.harness import Mesh
from tests.mesh.test_story import PIN, check, issue_card, settle


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in text_string_to_metric_families(text) for s in f.samples}


def total(samples: dict, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in samples.items() if n == name and all(dict(ls).get(k) == w for k, w in labels.items()))


async def test_metrics_move_and_logs_mask_ids_and_never_show_pins(mesh: Mesh, tmp_path) -> None:  # noqa: ANN001
    log_file = tmp_path / "mesh.log"
    handler = logging.FileHandler(log_file)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    port = free_port()
    mesh.metrics_ports = {"settlement": port}
    try:
        client = await mesh.start()
        before = scrape(port)
        citizen_id = make_citizen_id("110105", date(1970, 5, 5), 555)
        person = (await client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
            request_id="obs-reg", citizen_id=citizen_id, name="周八", region_code="110000",
            insured_category=identity_pb2.INSURED_CATEGORY_RESIDENT))).person
        card = await issue_card(mesh, person.person_id, citizen_id)
        await client.cards.ChangePin(cards_pb2.ChangePinRequest(request_id="obs-pin", card_no=card.card_no, old_pin="123456", new_pin=PIN))
        await eventually(lambda: client.settlement.AllocateToAccount(spb.AllocateToAccountRequest(
            request_id="obs-alloc", person_id=person.person_id, amount_fen=5000, period="2026-11")), lambda r: True)
        await eventually(lambda: check(client, card.card_no), lambda r: r.usability == spb.CARD_USABILITY_USABLE)
        await settle(client, card.card_no, 700, "obs-1")
        # The loss service learns of the enabled PIN through an event: retry until it has.
        await eventually(lambda: client.loss.ReportTemporaryLoss(loss_pb2.ReportTemporaryLossRequest(
            request_id="obs-loss", card_no=card.card_no, channel=loss_pb2.LOSS_CHANNEL_HOTLINE_IVR, pin=PIN)), lambda r: True)
        await eventually(lambda: check(client, card.card_no), lambda r: r.refusal_reason == "CARD_REPORTED_LOST")
        try:
            await settle(client, card.card_no, 700, "obs-2")
        except Exception:  # noqa: BLE001 - refused, as intended
            pass
        await mesh.settle_idle()
        for runtime in mesh.runtimes.values():
            await runtime.sample_gauges()
        after = scrape(port)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)

    def grew(name: str, **labels: str) -> bool:
        return total(after, name, **labels) > total(before, name, **labels)

    assert grew("sscard_rpc_requests_total", service="settlement", method="Settle", code="OK")
    assert grew("sscard_rpc_requests_total", service="settlement", method="Settle", code="FAILED_PRECONDITION")
    assert grew("sscard_rpc_latency_seconds_count", service="settlement", method="Settle")
    assert grew("sscard_settlement_refusals_total", reason="CARD_REPORTED_LOST")
    assert grew("sscard_loss_refusal_latency_seconds_count")
    assert grew("sscard_outbox_published_total", service="loss")
    assert grew("sscard_outbox_publish_lag_seconds_count", service="cards")
    assert grew("sscard_events_handled_total", consumer="settlement-loss", result="applied")
    assert ("sscard_outbox_backlog", (("service", "settlement"),)) in after
    assert any(n == "sscard_consumer_lag" and dict(ls).get("consumer") == "settlement-loss" for n, ls in after)

    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    rpc_lines = [line for line in lines if line["logger"] == "sscard.rpc"]
    assert any(line.get("method") == "Settle" and line.get("request_id") == "obs-1" for line in rpc_lines)
    assert any(line["logger"] == "sscard.event" and line.get("event_id") for line in lines)
    text = log_file.read_text()
    assert citizen_id not in text and card.card_no not in text and PIN not in text
    assert not re.search(r"\d{17}[\dX]", text), "an unmasked citizen ID reached the logs"


def test_mask_keeps_only_what_support_needs() -> None:
    assert mask("id 11010519491231002X card C1234567890") == "id 110105**********2X card C******7890"
