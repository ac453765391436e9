"""Who may do what: the one policy table of sscard, and the one place that enforces it.

`POLICY` maps every RPC to the principal kinds that may call it and the conditions the
guides set for each (DOMAIN.md §7). The guard around every RPC (server.guard) authenticates
the caller (trust.py), finds the rule for its kind and checks the rule's conditions on
the request and its metadata; an RPC with no entry is refused. Conditions that depend
on stored facts (whose card is this? which region?) are checked by the servicer once it
has loaded them, through `check_subject`, against the same rule; a rule whose subject
was never checked fails the call (tests/security walks every rule).

docs/security.md renders this table (tests/security/test_policy_doc.py keeps them equal).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.common.errors import InvalidArgument, PermissionDenied, Unauthenticated
from services.common.trust import (
    BANK, CITIZEN, CLERK, COMMUNITY, EMPLOYER, FACTORY, FUND_STAFF, HOTLINE, INSTITUTION, IVR, SERVICE, Principal, Verifier,
)

ID_DOCUMENT_HEADER = "x-sscard-id-document"

# Methods that need no credential: the standard ops services.
OPEN_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.v1alpha.ServerReflection/")


@dataclass(frozen=True)
class Rule:
    kind: str
    when: tuple[str, ...] = ()


def allow(kind: str, *when: str) -> Rule:
    return Rule(kind, tuple(when))


# --- conditions -----------------------------------------------------------------------------
# Checked by the guard before the servicer runs: (principal, request, metadata, institution registry) -> None or raise.

# Loss channels a principal kind may report through (loss.proto LossChannel numbers).
LOSS_CHANNELS_BY_KIND = {
    CITIZEN: {3, 4, 5},  # website, app, WeChat
    IVR: {1},  # 12333 voice menu
    HOTLINE: {2},  # 12333 human agent
    INSTITUTION: {6},  # self-service terminal at a level-2+ designated hospital
    BANK: {7},
    CLERK: {8},
}


def _id_document(principal: Principal, request: Any, metadata: Mapping[str, str], institution: Any) -> None:
    if not metadata.get(ID_DOCUMENT_HEADER, "").strip():
        raise PermissionDenied("ID_DOCUMENT_NOT_CHECKED",
                               f"a window act needs the ID document the clerk checked ({ID_DOCUMENT_HEADER} header)")


def _death_certificate(principal: Principal, request: Any, metadata: Mapping[str, str], institution: Any) -> None:
    if not request.death_certificate_ref.strip():
        raise InvalidArgument("FIELD_REQUIRED", "recording a death needs the death certificate's reference", field="death_certificate_ref")


def _transfer_certificate(principal: Principal, request: Any, metadata: Mapping[str, str], institution: Any) -> None:
    if not request.transfer_certificate_ref.strip():
        raise InvalidArgument("FIELD_REQUIRED", "a transfer needs the transfer certificate's reference", field="transfer_certificate_ref")


def _loss_channel(principal: Principal, request: Any, metadata: Mapping[str, str], institution: Any) -> None:
    known = set().union(*LOSS_CHANNELS_BY_KIND.values())
    # An unknown channel is bad input (the servicer's INVALID_ENUM); a known one must be the caller's own.
    if request.channel in known and request.channel not in LOSS_CHANNELS_BY_KIND.get(principal.kind, set()):
        raise PermissionDenied("CHANNEL_NOT_YOURS", f"a {principal.kind} does not report through this channel")


def _caller_verified(principal: Principal, request: Any, metadata: Mapping[str, str], institution: Any) -> None:
    if not (request.citizen_id.strip() and request.name.strip()):
        raise InvalidArgument("IDENTITY_REQUIRED", "the hotline records the caller's verification: citizen ID and name")


def _level_2_terminal(principal: Principal, request: Any, metadata: Mapping[str, str], institution: Any) -> None:
    if institution is None or institution.kind != "hospital" or institution.level < 2:
        raise PermissionDenied("TERMINAL_NOT_ALLOWED", "loss terminals stand in level-2 and level-3 designated hospitals")


def _request_unit(principal: Principal, request: Any, metadata: Mapping[str, str], institution: Any) -> None:
    unit = getattr(request, "employer_unit_id", "") or getattr(request, "unit_id", "")
    if not unit or unit != principal.org:
        raise PermissionDenied("NOT_YOUR_UNIT", "an employer unit acts only for its own staff")


def _online_application(principal: Principal, request: Any, metadata: Mapping[str, str], institution: Any) -> None:
    if request.channel != 5:  # APPLICATION_CHANNEL_ONLINE
        raise PermissionDenied("CHANNEL_NOT_YOURS", "a citizen applies through the online channel")


STATIC: dict[str, Callable[[Principal, Any, Mapping[str, str], Any], None]] = {
    "id_document": _id_document,
    "death_certificate": _death_certificate,
    "transfer_certificate": _transfer_certificate,
    "loss_channel": _loss_channel,
    "caller_verified": _caller_verified,
    "level_2_terminal": _level_2_terminal,
    "request_unit": _request_unit,
    "online_channel": _online_application,
}

# Checked by the servicer through check_subject, once it knows the facts.
SUBJECT = {
    "own_person": "a citizen acts only on their own records",
    "own_region": "a fund office acts only in its own region",
    "own_unit": "an employer unit acts only for its own staff",
    "card_presented": "an institution sees an account only for a card presented to it (card + PIN, e-card token, or its own settlement)",
    "not_filer": "a refund claim is reviewed by someone other than who filed it",
}

DESCRIPTIONS = {
    "id_document": "the clerk records the ID document checked",
    "death_certificate": "with the death certificate's reference",
    "transfer_certificate": "with the transfer certificate's reference",
    "loss_channel": "through the principal's own channel",
    "caller_verified": "records the caller's ID number and name",
    "level_2_terminal": "terminal in a level-2+ hospital",
    "request_unit": "for its own unit",
    "online_channel": "online channel",
    **SUBJECT,
}

# --- the table ---------------------------------------------------------------------------------

_ID, _CARDS, _LOSS, _SETL = ("sscard.identity.v1.IdentityService", "sscard.cards.v1.CardService",
                             "sscard.loss.v1.LossService", "sscard.settlement.v1.SettlementService")
WINDOW = ("id_document",)

POLICY: dict[str, tuple[Rule, ...]] = {
    # identity
    f"/{_ID}/RegisterPerson": (allow(CLERK, *WINDOW), allow(EMPLOYER, "request_unit")),
    f"/{_ID}/GetPerson": (allow(CLERK), allow(HOTLINE), allow(FUND_STAFF, "own_region"), allow(CITIZEN, "own_person"), allow(SERVICE)),
    f"/{_ID}/RecordDeath": (allow(CLERK, *WINDOW, "death_certificate"),),
    f"/{_ID}/ChangeIdentity": (allow(CLERK, *WINDOW),),
    f"/{_ID}/TransferInsurance": (allow(CLERK, *WINDOW, "transfer_certificate"),),
    f"/{_ID}/CreateEmployerUnit": (allow(CLERK), allow(FUND_STAFF, "own_region")),
    f"/{_ID}/ListUnitMembers": (allow(EMPLOYER, "request_unit"), allow(CLERK), allow(FUND_STAFF, "own_region")),
    # cards
    f"/{_CARDS}/ApplyForCard": (allow(CLERK, *WINDOW), allow(BANK, *WINDOW), allow(CITIZEN, "online_channel", "own_person")),
    f"/{_CARDS}/GetCard": (allow(CLERK), allow(BANK), allow(HOTLINE), allow(CITIZEN, "own_person"), allow(SERVICE),
                           allow(EMPLOYER, "own_unit"), allow(COMMUNITY, "own_unit")),
    f"/{_CARDS}/ListCards": (allow(CLERK), allow(BANK), allow(HOTLINE), allow(CITIZEN, "own_person"), allow(SERVICE)),
    f"/{_CARDS}/HandOutCard": (allow(CLERK, *WINDOW), allow(BANK, *WINDOW), allow(EMPLOYER, "own_unit"), allow(COMMUNITY, "own_unit")),
    f"/{_CARDS}/ActivateCard": (allow(INSTITUTION), allow(BANK), allow(CLERK)),
    f"/{_CARDS}/ChangePin": (allow(CITIZEN, "own_person"), allow(CLERK, *WINDOW), allow(BANK, *WINDOW)),
    f"/{_CARDS}/VerifyPin": (allow(SERVICE), allow(IVR)),
    f"/{_CARDS}/ApplyForCardsBatch": (allow(EMPLOYER, "request_unit"), allow(COMMUNITY, "request_unit"), allow(CLERK)),
    f"/{_CARDS}/RecordProductionFailure": (allow(FACTORY), allow(CLERK)),
    f"/{_CARDS}/RecallCard": (allow(FACTORY), allow(CLERK, *WINDOW)),
    f"/{_CARDS}/UnlockCard": (allow(CLERK, *WINDOW), allow(BANK, *WINDOW)),
    f"/{_CARDS}/ResetPin": (allow(CLERK, *WINDOW), allow(BANK, *WINDOW)),
    f"/{_CARDS}/QueryProgress": tuple(allow(k) for k in (CITIZEN, CLERK, HOTLINE, IVR, BANK, EMPLOYER, COMMUNITY, SERVICE)),
    f"/{_CARDS}/IssueElectronicCardToken": (allow(CITIZEN, "own_person"),),
    # loss
    f"/{_LOSS}/ReportTemporaryLoss": (
        allow(CITIZEN, "loss_channel", "own_person"), allow(IVR, "loss_channel"), allow(HOTLINE, "loss_channel", "caller_verified"),
        allow(CLERK, "loss_channel", *WINDOW), allow(BANK, "loss_channel", *WINDOW), allow(INSTITUTION, "loss_channel", "level_2_terminal"),
    ),
    f"/{_LOSS}/ReportFormalLoss": (allow(CLERK, *WINDOW), allow(BANK, *WINDOW)),
    f"/{_LOSS}/LiftLoss": (allow(CLERK, "loss_channel", *WINDOW), allow(BANK, "loss_channel", *WINDOW), allow(CITIZEN, "loss_channel", "own_person")),
    f"/{_LOSS}/GetLossState": (allow(CLERK), allow(BANK), allow(HOTLINE), allow(CITIZEN, "own_person"), allow(FUND_STAFF, "own_region"), allow(SERVICE)),
    f"/{_LOSS}/ClaimLossPeriodRefund": (allow(CLERK, *WINDOW), allow(FUND_STAFF, "own_region")),
    f"/{_LOSS}/ReviewLossPeriodRefund": (allow(FUND_STAFF, "own_region", "not_filer"),),
    # settlement (the national transactions of designated institutions; the fund's acts)
    **{f"/{_SETL}/{m}": (allow(INSTITUTION),)
       for m in ("SignIn", "CheckCard", "PreSettle", "Settle", "RevokeSettlement", "ReverseSettlement", "Reconcile")},
    f"/{_SETL}/AllocateToAccount": (allow(FUND_STAFF, "own_region"),),
    f"/{_SETL}/CreateFiling": (allow(FUND_STAFF, "own_region"),),
    f"/{_SETL}/ListFilings": (allow(FUND_STAFF, "own_region"), allow(INSTITUTION), allow(CLERK)),
    f"/{_SETL}/RegisterLegacyAccount": (allow(FUND_STAFF, "own_region"),),
    f"/{_SETL}/GetAccount": (allow(INSTITUTION, "card_presented"), allow(CITIZEN, "own_person"), allow(FUND_STAFF, "own_region"), allow(CLERK)),
    f"/{_SETL}/ListAccountEntries": (allow(INSTITUTION, "card_presented"), allow(CITIZEN, "own_person"), allow(FUND_STAFF, "own_region"), allow(CLERK)),
}


def render_markdown(policy: Mapping[str, tuple[Rule, ...]] | None = None) -> str:
    """The policy table as the Markdown table of docs/security.md: one row per RPC, each
    principal kind that may call it with its conditions in words (DESCRIPTIONS)."""
    lines = ["| service | RPC | who may call it, and on which conditions |", "|---|---|---|"]
    for method, rules in (POLICY if policy is None else policy).items():
        service, rpc = method.strip("/").split("/")
        parts: list[str] = []
        for i, r in enumerate(rules):
            if not r.when and i and not rules[i - 1].when:
                parts[-1] += f", `{r.kind}`"  # kinds without conditions share a line
            else:
                parts.append(f"`{r.kind}`" + (" — " + "; ".join(DESCRIPTIONS[c] for c in r.when) if r.when else ""))
        who = "<br>".join(parts)
        lines.append(f"| {service.split('.')[1]} | `{rpc}` | {who} |")
    return "\n".join(lines) + "\n"


# --- enforcement ------------------------------------------------------------------------------


@dataclass
class Grant:
    """The authorised call in progress: who, under which rule, and what is left to check."""

    principal: Principal
    rule: Rule
    method: str
    document: str = ""
    institution: Any = None
    subject_checked: bool = False

    @property
    def pending(self) -> tuple[str, ...]:
        return tuple(c for c in self.rule.when if c in SUBJECT)


_CURRENT: contextvars.ContextVar[Grant | None] = contextvars.ContextVar("sscard_grant", default=None)


def current() -> Grant | None:
    return _CURRENT.get()


def current_principal() -> Principal | None:
    grant = _CURRENT.get()
    return grant.principal if grant else None


def act_as(principal: Principal, method: str = "event") -> contextvars.Token[Grant | None]:
    """Event handlers and schedulers: the audit trail names the service or producer acting."""
    return _CURRENT.set(Grant(principal, Rule(principal.kind), method, subject_checked=True))


def reset(token: contextvars.Token[Grant | None]) -> None:
    _CURRENT.reset(token)


def check_subject(person_id: str | None = None, region: str | None = None, unit: str | None = None,
                  presented: bool | None = None, filer: str | None = None) -> Principal:
    """The subject conditions of the current rule, against the facts the servicer loaded.
    Pass every fact this RPC knows; a condition whose fact is missing fails closed."""
    grant = _CURRENT.get()
    if grant is None:
        raise Unauthenticated("CREDENTIAL_MISSING", "no authenticated caller")
    principal = grant.principal
    for condition in grant.pending:
        if condition == "own_person" and (person_id is None or person_id != principal.person_id):
            raise PermissionDenied("NOT_YOUR_RECORD", SUBJECT[condition])
        if condition == "own_region" and (region is None or region != principal.region):
            raise PermissionDenied("NOT_YOUR_REGION", SUBJECT[condition])
        if condition == "own_unit" and (unit is None or unit != principal.org):
            raise PermissionDenied("NOT_YOUR_UNIT", SUBJECT[condition])
        if condition == "card_presented" and not presented:
            raise PermissionDenied("CARD_NOT_PRESENTED", SUBJECT[condition])
        if condition == "not_filer" and (filer is None or filer == principal.actor):
            raise PermissionDenied("REVIEWER_IS_FILER", SUBJECT[condition])
    grant.subject_checked = True
    return principal


def needs(condition: str) -> bool:
    """Whether the current rule carries a subject condition (servicers skip work it does not need)."""
    grant = _CURRENT.get()
    return grant is not None and condition in grant.rule.when


@dataclass
class Access:
    """Authenticates and authorises one call: used by the guard around every RPC (server.guard)."""

    verifier: Verifier
    institutions: Mapping[str, Any] = field(default_factory=dict)
    policy: Mapping[str, tuple[Rule, ...]] = field(default_factory=lambda: POLICY)

    def authorize(self, method: str, request: Any, metadata: Iterable[tuple[str, Any]]) -> Grant:
        pairs = [(k, v) for k, v in metadata if isinstance(v, str)]
        principal = self.verifier.verify_metadata(pairs)
        rules = self.policy.get(method)
        if rules is None:
            raise PermissionDenied("NO_POLICY", f"{method} has no entry in the policy table")
        rule = next((r for r in rules if r.kind == principal.kind), None)
        if rule is None:
            raise PermissionDenied("PRINCIPAL_KIND_NOT_ALLOWED", f"a {principal.kind} may not call {method.rsplit('/', 1)[-1]}")
        institution = None
        if principal.kind == INSTITUTION:
            institution = self.institutions.get(principal.org)
            if institution is None or institution.kind not in ("hospital", "pharmacy"):
                raise Unauthenticated("UNKNOWN_INSTITUTION", f"{principal.org} is not a designated institution")
            if institution.status != "active":
                raise PermissionDenied("INSTITUTION_SUSPENDED", f"{institution.code} is {institution.status}")
        headers = dict(pairs)
        for condition in rule.when:
            check = STATIC.get(condition)
            if check is not None:
                check(principal, request, headers, institution)
        return Grant(principal, rule, method, document=headers.get(ID_DOCUMENT_HEADER, "")[:64], institution=institution)

    @staticmethod
    def enter(grant: Grant) -> contextvars.Token[Grant | None]:
        return _CURRENT.set(grant)


def is_open(method: str) -> bool:
    return method.startswith(OPEN_PREFIXES)
