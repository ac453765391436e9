"""Identity service wiring."""

from __future__ import annotations

from services.common.app import Runtime
from services.common.clock import Clock
from services.common.config import Settings
from services.common.policy import RegionPolicies
from services.identity import api, store
from sscard.identity.v1 import identity_pb2_grpc


def create(settings: Settings, clock: Clock | None = None, policies: RegionPolicies | None = None) -> Runtime:
    runtime = Runtime(settings, store.metadata, store.MIGRATIONS, clock=clock, policies=policies)
    runtime.server.add(
        identity_pb2_grpc.add_IdentityServiceServicer_to_server,
        api.IdentityServicer(runtime),
        "sscard.identity.v1.IdentityService",
    )
    return runtime
