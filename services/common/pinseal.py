"""The PIN verifier travels sealed: cards hands settlement what it needs to check a PIN at the POS
without a hop (rule 4), and no other reader of the bus — a service with the pepper, an operator, an
administrator — can test PIN guesses against it. AES-256-GCM under SSCARD_PIN_SEAL_KEY, which only
the cards and settlement services hold, bound to the card number (a seal cannot be moved to
another card)."""

from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def _aead(key: bytes) -> AESGCM:
    return AESGCM(hashlib.sha256(b"sscard pin seal\x00" + key).digest())


def seal(key: bytes, card_no: str, pin_hash: str, pin_salt: str) -> bytes:
    if not pin_hash:
        return b""
    nonce = os.urandom(12)
    return nonce + _aead(key).encrypt(nonce, f"{pin_salt}:{pin_hash}".encode(), card_no.encode())


def unseal(key: bytes, card_no: str, sealed: bytes) -> tuple[str, str]:
    """(pin_hash, pin_salt); ValueError when the seal is not this card's or not ours."""
    if not sealed:
        return "", ""
    try:
        salt, _, digest = _aead(key).decrypt(sealed[:12], sealed[12:], card_no.encode()).decode().partition(":")
    except (InvalidTag, ValueError) as error:
        raise ValueError(f"PIN seal of {card_no} does not open with this key") from error
    return digest, salt
