"""Institution credentials for the embedded default: HMAC-signed bearer tokens.

A token is `<code>.<expires_unix>.<hex hmac_sha256(secret, code.expires)>`,
minted by the institution from its own secret. Production puts mTLS client
certificates in front; the institution code then comes from the certificate.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from services.common.errors import Unauthenticated


@dataclass(frozen=True)
class Institution:
    """A designated institution (定点医疗机构 / 定点零售药店) or the fund authority."""

    code: str
    name: str
    kind: str  # hospital | pharmacy | authority
    level: int  # hospital level 1-3; 0 otherwise
    region_code: str
    secret: str
    status: str = "active"  # active | suspended (定点资格暂停)


def load_institutions(path: Path) -> dict[str, Institution]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found: dict[str, Institution] = {}
    for entry in data.get("institutions", []):
        institution = Institution(
            code=str(entry["code"]),
            name=str(entry["name"]),
            kind=str(entry["kind"]),
            level=int(entry.get("level", 0)),
            region_code=str(entry.get("region_code", "")),
            secret=str(entry["secret"]),
            status=str(entry.get("status", "active")),
        )
        if institution.kind not in ("hospital", "pharmacy", "authority"):
            raise ValueError(f"{path}: institution {institution.code} has unknown kind {institution.kind!r}")
        if institution.kind == "hospital" and institution.level not in (1, 2, 3):
            raise ValueError(f"{path}: hospital {institution.code} needs level 1, 2 or 3")
        found[institution.code] = institution
    return found


def _sign(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


def issue_token(code: str, secret: str, expires_unix: int) -> str:
    body = f"{code}.{expires_unix}"
    return f"{body}.{_sign(secret, body)}"


def authenticate(metadata: Mapping[str, str], institutions: Mapping[str, Institution], now_unix: int) -> Institution:
    """The calling institution, or UNAUTHENTICATED with a precise reason."""
    header = metadata.get("authorization", "")
    if not header.startswith("Bearer "):
        raise Unauthenticated("CREDENTIAL_MISSING", "send `authorization: Bearer <institution token>`")
    try:
        code, expires, signature = header[len("Bearer "):].strip().rsplit(".", 2)
        expires_unix = int(expires)
    except ValueError:
        raise Unauthenticated("CREDENTIAL_MALFORMED", "token must be <code>.<expires>.<signature>") from None
    institution = institutions.get(code)
    if institution is None or not hmac.compare_digest(_sign(institution.secret, f"{code}.{expires}"), signature):
        raise Unauthenticated("CREDENTIAL_INVALID", "unknown institution or bad signature")
    if expires_unix < now_unix:
        raise Unauthenticated("CREDENTIAL_EXPIRED", "token has expired")
    return institution


ECARD_PREFIX = "ecard"


def issue_ecard_token(card_no: str, expires_unix: int, secret: bytes) -> str:
    """The electronic social security card (电子社保卡) QR payload: short-lived, signed by cards."""
    body = f"{ECARD_PREFIX}.{card_no}.{expires_unix}"
    return f"{body}.{hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()}"


def verify_ecard_token(token: str, secret: bytes, now_unix: int) -> str:
    """The card number a valid e-card token stands for; UNAUTHENTICATED otherwise."""
    try:
        prefix, card_no, expires, signature = token.split(".")
        expires_unix = int(expires)
    except ValueError:
        raise Unauthenticated("ECARD_TOKEN_MALFORMED", "not an electronic card token") from None
    body = f"{prefix}.{card_no}.{expires}"
    if prefix != ECARD_PREFIX or not hmac.compare_digest(hmac.new(secret, body.encode(), hashlib.sha256).hexdigest(), signature):
        raise Unauthenticated("ECARD_TOKEN_INVALID", "electronic card token signature does not match")
    if expires_unix < now_unix:
        raise Unauthenticated("ECARD_TOKEN_EXPIRED", "electronic card token has expired; refresh the QR code")
    return card_no
