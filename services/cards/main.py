"""Cards service wiring."""

from __future__ import annotations

from services.cards import api, handlers, store
from services.common.app import Runtime
from services.common.clock import Clock
from services.common.config import Settings
from services.common.policy import RegionPolicies
from sscard.cards.v1 import cards_pb2_grpc


def create(settings: Settings, clock: Clock | None = None, policies: RegionPolicies | None = None) -> Runtime:
    runtime = Runtime(settings, store.metadata, store.MIGRATIONS, clock=clock, policies=policies)
    core = api.CardsCore(runtime)
    runtime.server.add(cards_pb2_grpc.add_CardServiceServicer_to_server, api.CardServicer(core), "sscard.cards.v1.CardService")
    for stream, subs in handlers.subscriptions(core).items():
        runtime.subscribe(stream, subs)
    runtime.background("production", core.production_loop)
    return runtime
