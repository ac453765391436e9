"""Identity providers: who may sign in to the web channel, and the session credential they get.

Production puts the region's real-name provider (the citizen app's 实名认证, e.g. a national
e-ID or bank-card face check) and the organisations' staff login in front: they are issuers in
the services' JWKS, trusted only for the kinds they vouch for (a real-name provider's key:
`citizen`; an outlet operator's SSO: `outlet_clerk`), and their tokens reach the gateway as
`Authorization: Bearer`. The gateway then needs no provider of its own.

`make run` has no such providers, so the gateway carries development ones (`SSCARD_ENV=dev`):
- a citizen signs in with name + ID number, accepted when they match the person registered
  under that number (looked up with the gateway's own service credential); the session is a
  `citizen` credential bound to that one person (channel web);
- a clerk signs in with an operator id, the outlet, and the development staff password
  (`SSCARD_GATEWAY_STAFF_PASSWORD`, random per install, printed by `sscard up`).
Both sessions are short-lived JWTs minted with the development issuer key.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

import jwt

from services.common import trust
from services.common.citizen_id import parse_citizen_id
from services.common.errors import SscardError
from sscard.identity.v1 import identity_pb2

SESSION_TTL_S = 1800
AUDIENCES = ("identity", "cards", "loss", "settlement")


class SignInRefused(Exception):
    def __init__(self, status: str, reason: str, message: str, field: str = "") -> None:
        super().__init__(message)
        self.status, self.reason, self.message, self.field = status, reason, message, field


@dataclass(frozen=True)
class Signed:
    token: str
    ttl_s: int
    public: dict[str, str]  # what the page shows: kind, name, person or operator


def claims_of(token: str) -> dict[str, Any] | None:
    """The session's claims, for the page to show who is signed in (the services verify the token)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    return {k: claims.get(k, "") for k in ("kind", "sub", "org", "region", "person_id", "channel", "exp")}


class Providers:
    """The development providers (see the module docstring)."""

    def __init__(self, signer: trust.Signer, staff_password: str, region: str = "999900") -> None:
        if len(staff_password) < 12:
            raise ValueError("the development staff password must have 12 characters or more")
        self.signer, self.staff_password, self.region = signer, staff_password, region

    async def citizen(self, gateway: Any, name: str, citizen_id: str) -> Signed:
        name, citizen_id = name.strip(), citizen_id.strip().upper()
        if not name:
            raise SignInRefused("INVALID_ARGUMENT", "FIELD_REQUIRED", "name is required", "name")
        try:
            parse_citizen_id(citizen_id)
        except SscardError as bad:
            raise SignInRefused("INVALID_ARGUMENT", bad.reason, bad.message, "citizen_id") from None
        lookup = gateway.route("GetPerson")
        person = (await gateway.call(lookup)(identity_pb2.GetPersonRequest(citizen_id=citizen_id),
                                             metadata=(("authorization", gateway.service_credential("identity")),), timeout=10)).person
        if person.name != name:
            raise SignInRefused("UNAUTHENTICATED", "REAL_NAME_MISMATCH", "the name does not match the ID number", "name")
        token = self.signer.mint(trust.CITIZEN, person.person_id, AUDIENCES, ttl_s=SESSION_TTL_S, person_id=person.person_id,
                                 channel="web", region=person.region_code)
        return Signed(token, SESSION_TTL_S, {"kind": trust.CITIZEN, "person_id": person.person_id, "name": person.name})

    def staff(self, operator_id: str, outlet: str, password: str) -> Signed:
        operator_id, outlet = operator_id.strip(), outlet.strip()
        for value, field in ((operator_id, "operator_id"), (outlet, "outlet")):
            if not value:
                raise SignInRefused("INVALID_ARGUMENT", "FIELD_REQUIRED", f"{field} is required", field)
            if len(value) > 64 or not value.replace("-", "").replace("_", "").isalnum():
                raise SignInRefused("INVALID_ARGUMENT", "INVALID_CHARACTERS", f"{field}: letters, digits, - and _ only", field)
        if not hmac.compare_digest(password.encode(), self.staff_password.encode()):
            raise SignInRefused("UNAUTHENTICATED", "WRONG_PASSWORD", "wrong password", "password")
        token = self.signer.mint(trust.CLERK, operator_id, AUDIENCES, ttl_s=SESSION_TTL_S, org=outlet, region=self.region)
        return Signed(token, SESSION_TTL_S, {"kind": trust.CLERK, "operator_id": operator_id, "outlet": outlet})
