"""Loss service wiring."""

from __future__ import annotations

from services.common.app import Runtime
from services.common.clock import Clock
from services.common.config import Settings
from services.common.policy import RegionPolicies
from services.loss import api, bank, handlers, store
from sscard.loss.v1 import loss_pb2_grpc


def create(settings: Settings, clock: Clock | None = None, policies: RegionPolicies | None = None) -> Runtime:
    runtime = Runtime(settings, store.metadata, store.MIGRATIONS, clock=clock, policies=policies)
    core = api.LossCore(runtime)
    runtime.server.add(loss_pb2_grpc.add_LossServiceServicer_to_server, api.LossServicer(core), "sscard.loss.v1.LossService")
    for stream, subs in handlers.subscriptions().items():
        runtime.subscribe(stream, subs)
    runtime.subscribe("LOSS", bank.subscriptions(bank.RecordingBankAdapter()), durable="loss-bank")
    runtime.background("expiry", core.expiry_loop)
    return runtime
