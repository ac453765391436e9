"""Development PKI: a local CA, TLS certificates and credential-signing keys under one directory.

`make run` (through `sscard up`) and the tests call `ensure_dev_pki`; production mounts
the same file names from Kubernetes Secrets (cert-manager can write them), so the
services never know which one they got. Built with `cryptography`, no hand-rolled ASN.1.

Files (all PEM unless noted):
  ca.pem / ca.key                 the development CA (trust anchor of every port)
  <service>.pem / <service>.key   each service's certificate: server and client (mTLS) use
  nats.pem / nats.key             the NATS server's certificate
  client.pem / client.key         the operator CLI, demo and grpcurl examples (client auth)
  issuer.key                      the development credential issuer (Ed25519), signs `sscard token`
  service-<service>.key           each service's own signing key for its calls to peers
  jwks.json                       the public keys, with the issuer and kinds each may vouch for
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from jwt.utils import base64url_encode

SERVICES = ("identity", "cards", "loss", "settlement")
DEV_ISSUER = "sscard-dev-issuer"
VALID_DAYS = 825


def _write(path: Path, data: bytes, private: bool = False) -> None:
    path.write_bytes(data)
    if private:
        os.chmod(path, 0o600)


def _key_pem(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sscard development"), x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, common_name: str, dns: Iterable[str], server: bool) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH] + ([ExtendedKeyUsageOID.SERVER_AUTH] if server else [])
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    if server:
        names += [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1"))]
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
    )
    cert = builder.sign(ca_key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def _ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = _name("sscard development CA")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def public_jwk(key: ed25519.Ed25519PrivateKey, kid: str, issuer: str, kinds: list[str], subjects: list[str] | None = None) -> dict[str, object]:
    """A JWKS entry (RFC 8037 OKP key) plus who it may vouch for: `iss` and the principal `kinds`
    (and, for a service key, the one `subjects` it may name)."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk: dict[str, object] = {"kty": "OKP", "crv": "Ed25519", "x": base64url_encode(raw).decode(), "kid": kid,
                              "alg": "EdDSA", "use": "sig", "iss": issuer, "kinds": kinds}
    if subjects:
        jwk["subjects"] = subjects
    return jwk


def ensure_dev_pki(directory: Path, services: Iterable[str] = SERVICES) -> Path:
    """Create the development CA, certificates and signing keys once; later calls reuse them."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    if (directory / "jwks.json").exists():
        ensure_web_certificate(directory)
        return directory
    ca_key, ca_cert = _ca()
    _write(directory / "ca.pem", ca_cert.public_bytes(serialization.Encoding.PEM))
    _write(directory / "ca.key", _key_pem(ca_key), private=True)
    for service in services:
        cert, key = _issue(ca_key, ca_cert, f"sscard-{service}", ["localhost", service, f"sscard-{service}"], server=True)
        _write(directory / f"{service}.pem", cert)
        _write(directory / f"{service}.key", key, private=True)
    cert, key = _issue(ca_key, ca_cert, "sscard-nats", ["localhost", "nats", "sscard-nats"], server=True)
    _write(directory / "nats.pem", cert)
    _write(directory / "nats.key", key, private=True)
    cert, key = _issue(ca_key, ca_cert, "sscard-operator", [], server=False)
    _write(directory / "client.pem", cert)
    _write(directory / "client.key", key, private=True)
    issuer = ed25519.Ed25519PrivateKey.generate()
    _write(directory / "issuer.key", _key_pem(issuer), private=True)
    keys = [public_jwk(issuer, "dev-issuer-1", DEV_ISSUER, ["*"])]
    for service in services:
        signer = ed25519.Ed25519PrivateKey.generate()
        _write(directory / f"service-{service}.key", _key_pem(signer), private=True)
        keys.append(public_jwk(signer, f"service-{service}-1", f"sscard-{service}", ["service"], [service]))
    # Written last: its presence means the set is complete.
    _write(directory / "jwks.json", json.dumps({"keys": keys}, indent=2).encode())
    ensure_web_certificate(directory)
    return directory


def ensure_web_certificate(directory: Path) -> None:
    """The web gateway's HTTPS certificate (localhost), issued by the development CA when missing
    (a PKI made before the gateway existed gets one too). Browsers trust it once they trust ca.pem."""
    if (directory / "gateway.pem").exists() or not (directory / "ca.key").exists():
        return
    ca_key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
    cert, key = _issue(ca_key, ca_cert, "sscard-gateway", ["localhost", "gateway", "sscard-gateway"], server=True)  # type: ignore[arg-type]
    _write(directory / "gateway.key", key, private=True)
    _write(directory / "gateway.pem", cert)
