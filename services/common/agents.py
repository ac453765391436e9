"""Proxies (委托代办): an agent acts for the holder with their own ID and an entrustment letter."""

from __future__ import annotations

from dataclasses import dataclass

from services.common.citizen_id import parse_citizen_id
from services.common.errors import InvalidArgument


@dataclass(frozen=True)
class Agent:
    citizen_id: str
    name: str
    relationship: str
    entrustment_ref: str

    def describe(self) -> str:
        """Audit form: masked ID, relationship and letter reference."""
        masked = parse_citizen_id(self.citizen_id).masked
        return f"{masked}|{self.relationship}|{self.entrustment_ref}"


def validate_agent(citizen_id: str, name: str, relationship: str, entrustment_ref: str, holder_citizen_id: str = "") -> Agent | None:
    """None when the holder acts in person; otherwise every field is required."""
    if not (citizen_id or name or relationship or entrustment_ref):
        return None
    parse_citizen_id(citizen_id, field="agent.citizen_id")
    for field, value in (("agent.name", name), ("agent.relationship", relationship), ("agent.entrustment_ref", entrustment_ref)):
        if not value.strip():
            raise InvalidArgument("AGENT_INCOMPLETE", f"{field} is required when a proxy acts", field=field)
    if holder_citizen_id and citizen_id == holder_citizen_id:
        raise InvalidArgument("AGENT_IS_HOLDER", "the holder cannot be their own proxy", field="agent.citizen_id")
    return Agent(citizen_id, name.strip(), relationship.strip(), entrustment_ref.strip())
