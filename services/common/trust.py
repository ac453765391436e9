"""Who is calling: TLS credentials and signed caller credentials (JWT, EdDSA/ES256).

Every RPC but health and reflection carries `authorization: Bearer <JWT>`. The token is
signed by an issuer whose public key is in the JWKS file (`SSCARD_JWKS_FILE`); each key
says which issuer it belongs to and which principal kinds it may vouch for, so a
service's own key can only name that service. The server enforces its audience
(`sscard.<service>`), the expiry and a maximum lifetime. What the token names is the
Principal: the only identity the policy table (access.py) and the audit trail see.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import jwt
from cryptography.hazmat.primitives import serialization

from services.common import tracing
from services.common.errors import PermissionDenied, Unauthenticated

# Principal kinds, from the guides (DOMAIN.md §7).
INSTITUTION = "institution"  # designated hospital / clinic / pharmacy (定点医药机构)
FUND_STAFF = "fund_staff"  # medical insurance fund office (医保经办)
CLERK = "outlet_clerk"  # service-outlet window clerk (服务网点)
HOTLINE = "hotline_agent"  # 12333 human agent
IVR = "ivr"  # 12333 24-hour voice self-service
BANK = "bank"  # partner bank (合作银行) and its outlets
FACTORY = "card_factory"  # card production
EMPLOYER = "employer"  # employer unit handler (单位经办人)
COMMUNITY = "community"  # community / street office (社区)
CITIZEN = "citizen"  # a citizen's self-service session after real-name login (app / web / WeChat)
SERVICE = "service"  # one of sscard's own services
KINDS = (INSTITUTION, FUND_STAFF, CLERK, HOTLINE, IVR, BANK, FACTORY, EMPLOYER, COMMUNITY, CITIZEN, SERVICE)

ALGORITHMS = ["EdDSA", "ES256"]
LEEWAY_S = 30


def audience(service: str) -> str:
    return f"sscard.{service}"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. `id` is the person or system acting (operator id, institution
    code, service name, or the citizen's person id); `org` the organisation it acts for
    (outlet, bank, unit, institution, fund office); `region` its pooling region."""

    kind: str
    id: str
    org: str = ""
    region: str = ""
    person_id: str = ""  # citizen sessions: the one person they are bound to
    channel: str = ""  # citizen sessions: app | web | wechat
    issuer: str = ""
    expires: int = 0

    @property
    def actor(self) -> str:
        """The audit form: kind, organisation and id, e.g. `outlet_clerk:OUTLET-0101/op-17`."""
        return f"{self.kind}:{self.org}/{self.id}" if self.org else f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class _Key:
    key: Any
    issuer: str
    kinds: frozenset[str]
    subjects: frozenset[str]


def load_jwks(path: Path) -> dict[str, _Key]:
    """The trusted signing keys by kid. Each entry is a JWK plus `iss`, `kinds` (or "*") and,
    optionally, the `subjects` it may name."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RuntimeError(f"trusted issuer keys not found: {path} (SSCARD_JWKS_FILE)") from None
    keys: dict[str, _Key] = {}
    for entry in data.get("keys", []):
        kid, issuer, kinds = entry.get("kid"), entry.get("iss"), entry.get("kinds")
        if not kid or not issuer or not kinds:
            raise RuntimeError(f"{path}: every key needs kid, iss and kinds")
        unknown = set(kinds) - set(KINDS) - {"*"}
        if unknown:
            raise RuntimeError(f"{path}: key {kid} names unknown kinds {sorted(unknown)}")
        keys[kid] = _Key(jwt.PyJWK(entry).key, issuer, frozenset(kinds), frozenset(entry.get("subjects", ())))
    if not keys:
        raise RuntimeError(f"{path}: no keys")
    return keys


@dataclass
class Verifier:
    """Checks bearer tokens for one service (its audience). Verified tokens are cached until
    they expire: a token is immutable, so the cache is safe per instance."""

    keys: Mapping[str, _Key]
    service: str
    max_lifetime_s: int = 3600
    _cache: dict[str, Principal] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: Path, service: str, max_lifetime_s: int = 3600) -> "Verifier":
        return cls(load_jwks(path), service, max_lifetime_s)

    def verify_metadata(self, metadata: Iterable[tuple[str, Any]]) -> Principal:
        header = ""
        for key, value in metadata:
            if key == "authorization" and isinstance(value, str):
                header = value
                break
        if not header.startswith("Bearer "):
            raise Unauthenticated("CREDENTIAL_MISSING", "send `authorization: Bearer <JWT>` (see docs/security.md)")
        return self.verify(header[7:].strip())

    def verify(self, token: str, now: float | None = None) -> Principal:
        now = time.time() if now is None else now
        cached = self._cache.get(token)
        if cached is not None:
            if cached.expires + LEEWAY_S < now:
                raise Unauthenticated("CREDENTIAL_EXPIRED", "the credential has expired")
            return cached
        principal = self._verify(token, now)
        if len(self._cache) >= 8192:
            self._cache.clear()
        self._cache[token] = principal
        return principal

    def _verify(self, token: str, now: float) -> Principal:
        try:
            kid = jwt.get_unverified_header(token).get("kid", "")
        except jwt.PyJWTError:
            raise Unauthenticated("CREDENTIAL_MALFORMED", "the credential is not a JWT") from None
        key = self.keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthenticated("CREDENTIAL_INVALID", "the credential is signed by an unknown key")
        try:
            claims = jwt.decode(
                token, key.key, algorithms=ALGORITHMS, audience=audience(self.service), issuer=key.issuer, leeway=LEEWAY_S,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("CREDENTIAL_EXPIRED", "the credential has expired") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("CREDENTIAL_WRONG_AUDIENCE", f"the credential is not for {audience(self.service)}") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("CREDENTIAL_NOT_YET_VALID", "the credential is not valid yet") from None
        except jwt.PyJWTError:
            raise Unauthenticated("CREDENTIAL_INVALID", "the credential's signature or claims are invalid") from None
        issued, expires = claims["iat"], claims["exp"]
        if not isinstance(issued, int) or not isinstance(expires, int) or expires - issued > self.max_lifetime_s:
            raise Unauthenticated("CREDENTIAL_LIFETIME_TOO_LONG", f"credentials live at most {self.max_lifetime_s} s")
        if issued > now + LEEWAY_S:
            raise Unauthenticated("CREDENTIAL_NOT_YET_VALID", "the credential was issued in the future")
        kind = claims.get("kind")
        if kind not in KINDS:
            raise Unauthenticated("CREDENTIAL_INVALID", "the credential names no known principal kind")
        if "*" not in key.kinds and kind not in key.kinds:
            raise Unauthenticated("CREDENTIAL_INVALID", f"key {kid} may not vouch for a {kind}")
        subject = str(claims["sub"])
        if key.subjects and subject not in key.subjects:
            raise Unauthenticated("CREDENTIAL_INVALID", f"key {kid} may not vouch for {subject}")
        principal = Principal(
            kind=kind, id=subject, org=str(claims.get("org", "")), region=str(claims.get("region", "")),
            person_id=str(claims.get("person_id", "")), channel=str(claims.get("channel", "")), issuer=key.issuer, expires=expires,
        )
        if kind == CITIZEN and not principal.person_id:
            raise Unauthenticated("CREDENTIAL_INVALID", "a citizen session must be bound to one person (person_id)")
        if kind == SERVICE and principal.id not in ("identity", "cards", "loss", "settlement", "gateway"):
            raise PermissionDenied("UNKNOWN_SERVICE", f"no sscard service is called {principal.id}")
        return principal


@dataclass(frozen=True)
class Signer:
    """Mints credentials with one private key (the development issuer, or a service's own key)."""

    key: Any
    kid: str
    issuer: str

    @classmethod
    def from_file(cls, path: Path, kid: str, issuer: str) -> "Signer":
        return cls(serialization.load_pem_private_key(path.read_bytes(), password=None), kid, issuer)

    def mint(self, kind: str, subject: str, audiences: str | Iterable[str], ttl_s: int = 600, now: int | None = None, **claims: str) -> str:
        now = int(time.time()) if now is None else now
        aud = [audience(audiences)] if isinstance(audiences, str) else [audience(a) for a in audiences]
        body = {"iss": self.issuer, "sub": subject, "aud": aud, "iat": now, "exp": now + ttl_s, "kind": kind,
                **{k: v for k, v in claims.items() if v}}
        algorithm = "EdDSA" if self.key.__class__.__name__.startswith("Ed25519") else "ES256"
        return jwt.encode(body, self.key, algorithm=algorithm, headers={"kid": self.kid})


class ServiceCredential:
    """A service's own credential for its calls to peers, renewed before it expires."""

    def __init__(self, signer: Signer, service: str, ttl_s: int = 600) -> None:
        self.signer, self.service, self.ttl_s = signer, service, ttl_s
        self._tokens: dict[str, tuple[str, float]] = {}

    def metadata(self, peer: str) -> tuple[tuple[str, str], ...]:
        token, renew_at = self._tokens.get(peer, ("", 0.0))
        if time.time() >= renew_at:
            token = self.signer.mint("service", self.service, peer, ttl_s=self.ttl_s)
            self._tokens[peer] = (token, time.time() + self.ttl_s / 2)
        return (("authorization", "Bearer " + token),)


# --- transport -----------------------------------------------------------------------------


def server_credentials(ca_file: Path, cert_file: Path, key_file: Path, require_client_auth: bool) -> grpc.ServerCredentials:
    return grpc.ssl_server_credentials(
        [(key_file.read_bytes(), cert_file.read_bytes())], root_certificates=ca_file.read_bytes(), require_client_auth=require_client_auth,
    )


# Every channel spreads its calls over whatever addresses its target resolves to: a headless
# Kubernetes Service, or "ipv4:10.0.0.1:50154,10.0.0.2:50154" — an instance that dies is skipped.
CHANNEL_OPTIONS = (("grpc.service_config", json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})),)


def channel_options(service: str, target: str) -> tuple[tuple[str, str], ...]:
    """A target listing several addresses ("ipv4:a:p,b:p") has no one host name to check the
    certificate against: check it names the service itself (its certificate's DNS name)."""
    if target.startswith(("ipv4:", "ipv6:")) and "," in target:
        return (*CHANNEL_OPTIONS, ("grpc.ssl_target_name_override", service))
    return CHANNEL_OPTIONS


def channel_credentials(ca_file: Path, cert_file: Path | None = None, key_file: Path | None = None) -> grpc.ChannelCredentials:
    """TLS to an sscard port, presenting a client certificate when given (mTLS)."""
    return grpc.ssl_channel_credentials(
        root_certificates=ca_file.read_bytes(),
        private_key=key_file.read_bytes() if key_file else None,
        certificate_chain=cert_file.read_bytes() if cert_file else None,
    )


class BearerInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    """Adds a credential to every call that does not carry one: `metadata_for(method, request)` gives it."""

    def __init__(self, metadata_for: Any) -> None:
        self.metadata_for = metadata_for

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        present = list(details.metadata or ())
        extra: tuple[tuple[str, str], ...] = ()
        if not any(key == "authorization" for key, _ in present):
            extra = tuple(self.metadata_for(details.method.decode() if isinstance(details.method, bytes) else details.method, request))
        if tracing.ENABLED and not any(key == tracing.TRACEPARENT for key, _ in present):
            extra += tracing.outgoing()  # the caller's trace goes on in the service it calls
        if extra:
            details = grpc.aio.ClientCallDetails(details.method, details.timeout, grpc.aio.Metadata(*present, *extra),
                                                 details.credentials, details.wait_for_ready)
        return await continuation(details, request)
