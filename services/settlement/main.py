"""Settlement service wiring."""

from __future__ import annotations

from services.common.app import Runtime
from services.common.clock import Clock
from services.common.config import Settings
from services.common.policy import RegionPolicies
from services.settlement import api, handlers, store
from sscard.settlement.v1 import settlement_pb2_grpc


def create(settings: Settings, clock: Clock | None = None, policies: RegionPolicies | None = None) -> Runtime:
    runtime = Runtime(settings, store.metadata, store.MIGRATIONS, clock=clock, policies=policies)
    core = api.SettlementCore(runtime)
    runtime.server.add(
        settlement_pb2_grpc.add_SettlementServiceServicer_to_server,
        api.SettlementServicer(core),
        "sscard.settlement.v1.SettlementService",
    )
    for stream, subs in handlers.subscriptions(settings.pin_seal_key).items():
        runtime.subscribe(stream, subs)
    return runtime
