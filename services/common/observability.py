"""Metrics (Prometheus) and structured logs shared by every service.

One registry per process with a `service` label, so the in-process test mesh
and a one-service container expose the same series. Logs are one JSON object
per line; citizen IDs and card numbers are masked and PINs never logged.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, start_http_server

RPC_REQUESTS = Counter("sscard_rpc_requests_total", "RPCs handled", ["service", "method", "code"])
RPC_LATENCY = Histogram(
    "sscard_rpc_latency_seconds", "RPC handling time", ["service", "method"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
OUTBOX_BACKLOG = Gauge("sscard_outbox_backlog", "Outbox rows not yet published", ["service"])
OUTBOX_PUBLISHED = Counter("sscard_outbox_published_total", "Outbox rows published", ["service"])
OUTBOX_LAG = Histogram(
    "sscard_outbox_publish_lag_seconds", "Commit to publish", ["service"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30),
)
CONSUMER_LAG = Gauge("sscard_consumer_lag", "Events in the stream not yet acked by the consumer", ["service", "consumer"])
EVENTS_HANDLED = Counter("sscard_events_handled_total", "Events taken by a consumer", ["service", "consumer", "result"])
REDELIVERIES = Counter("sscard_consumer_redeliveries_total", "Events delivered more than once", ["service", "consumer"])
LOSS_REFUSAL_LATENCY = Histogram(
    "sscard_loss_refusal_latency_seconds", "Loss report committed to settlement refusing the card", ["service"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 60, 3600),
)
LOSS_READ_THROUGHS = Counter(
    "sscard_settlement_loss_read_throughs_total", "Settlements that asked the loss service because the loss feed lagged", ["service"]
)
FEED_READ_THROUGHS = Counter(
    "sscard_settlement_feed_read_throughs_total", "Settlements that asked a producer because its feed lagged (loss, identity, cards)",
    ["service", "stream"],
)
SETTLEMENT_REFUSALS = Counter("sscard_settlement_refusals_total", "Settlements refused", ["service", "reason"])
DEAD_LETTERS = Gauge("sscard_dead_letters", "Events a consumer gave up on, parked and not yet replayed", ["service"])
# 1 when a region's calendar has the official holiday schedule (with the adjusted working weekends)
# of the current / next year: from the region file (calendar.years) or the holidays package.
CALENDAR_SCHEDULE_KNOWN = Gauge("sscard_calendar_schedule_known", "Official holiday schedule present", ["service", "region", "year"])

_started_ports: set[int] = set()


def serve_metrics(port: int) -> None:
    """Expose /metrics on `port` (0 disables); idempotent within a process."""
    if port and port not in _started_ports:
        start_http_server(port)
        _started_ports.add(port)


_CITIZEN_ID = re.compile(r"\b(\d{6})\d{10}(\d[\dXx])\b")
_CARD_NO = re.compile(r"\bC\d{6}(\d{4})\b")


def mask(text: str) -> str:
    """Mask citizen IDs (keep region and check digits) and card numbers (keep the last 4)."""
    text = _CITIZEN_ID.sub(lambda m: f"{m.group(1)}**********{m.group(2)}", text)
    return _CARD_NO.sub(lambda m: f"C******{m.group(1)}", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, citizen IDs and card numbers masked (this runs for every RPC:
    a value shorter than the shortest pattern, a card number's 11 characters, skips the regexes)."""

    FIELDS = ("service", "method", "code", "duration_ms", "request_id", "trace_id", "event_id", "subject", "peer")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 6),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": _masked(record.getMessage()),
        }
        fields = record.__dict__
        for key in self.FIELDS:
            if key in fields:
                entry[key] = _masked(str(fields[key]))
        if record.exc_info:
            entry["exc"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def _masked(text: str) -> str:
    return mask(text) if len(text) >= 11 else text


def configure_logging(fmt: str = "json", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


rpc_log = logging.getLogger("sscard.rpc")

# Request fields that identify the call for support staff; never the PIN or secrets.
_ID_FIELDS = ("request_id", "msg_id")


def rpc_recorder(service: str, method: str) -> Callable[[Any, Any, tuple[Any, ...], str, float], None]:
    """One metric sample and one JSON log line per RPC of `method` (its label children bound once)."""
    latency = RPC_LATENCY.labels(service, method)
    counters: dict[str, Any] = {}

    def record(request: Any, context: Any, metadata: tuple[Any, ...], code: str, elapsed: float) -> None:
        counter = counters.get(code)
        if counter is None:
            counter = counters[code] = RPC_REQUESTS.labels(service, method, code)
        counter.inc()
        latency.observe(elapsed)
        if not rpc_log.isEnabledFor(logging.INFO):
            return
        trace = next((v for k, v in metadata if k == "x-request-id"), "")
        request_id = next((getattr(request, f) for f in _ID_FIELDS if getattr(request, f, "")), "")
        rpc_log.info(
            "rpc %s %s", method, code,
            extra={"service": service, "method": method, "code": code, "duration_ms": round(elapsed * 1000, 3),
                   "request_id": request_id, "trace_id": trace, "peer": context.peer()},
        )

    return record
