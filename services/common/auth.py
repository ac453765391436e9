"""The registry of designated institutions, and the electronic card's QR token.

Who is calling is established by trust.py (a signed JWT naming the institution); this
registry says what that institution is: hospital or pharmacy, level, region, and
whether its designation (定点资格) is active. Every service reads the same file.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path

import yaml

from services.common.errors import InvalidArgument, Unauthenticated


@dataclass(frozen=True)
class Institution:
    """A designated institution (定点医疗机构 / 定点零售药店) or the fund authority."""

    code: str
    name: str
    kind: str  # hospital | pharmacy | authority
    level: int  # hospital level 1-3; 0 otherwise
    region_code: str
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
            status=str(entry.get("status", "active")),
        )
        if institution.kind not in ("hospital", "pharmacy"):
            raise ValueError(f"{path}: institution {institution.code} has unknown kind {institution.kind!r}")
        if institution.kind == "hospital" and institution.level not in (1, 2, 3):
            raise ValueError(f"{path}: hospital {institution.code} needs level 1, 2 or 3")
        found[institution.code] = institution
    return found


ECARD_PREFIX = "ecard"


def issue_ecard_token(card_no: str, expires_unix: int, secret: bytes) -> str:
    """The electronic social security card (电子社保卡) QR payload: short-lived, signed by cards."""
    body = f"{ECARD_PREFIX}.{card_no}.{expires_unix}"
    return f"{body}.{hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()}"


def verify_ecard_token(token: str, secret: bytes, now_unix: int) -> str:
    """The card number a valid e-card token stands for; UNAUTHENTICATED otherwise."""
    try:
        if not token.isascii():
            raise ValueError("not ASCII")
        prefix, card_no, expires, signature = token.split(".")
        expires_unix = int(expires)
    except ValueError:
        raise InvalidArgument("ECARD_TOKEN_MALFORMED", "not an electronic card token", field="ecard_token") from None
    body = f"{prefix}.{card_no}.{expires}"
    if prefix != ECARD_PREFIX or not hmac.compare_digest(hmac.new(secret, body.encode(), hashlib.sha256).hexdigest(), signature):
        raise Unauthenticated("ECARD_TOKEN_INVALID", "electronic card token signature does not match")
    if expires_unix < now_unix:
        raise Unauthenticated("ECARD_TOKEN_EXPIRED", "electronic card token has expired; refresh the QR code")
    return card_no
