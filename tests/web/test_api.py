"""The HTTP/JSON API: the OpenAPI document validates, every documented route answers once with what
its gRPC method answers (or the precise refusal, never a bare 500), and bad input changes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from openapi_spec_validator import validate

from services.client import CLERK
from services.common.citizen_id import make_citizen_id
from sscard.identity.v1 import identity_pb2
from tests.service.test_settlement import insured
from tests.web.conftest import Web

WINDOW = {"x-sscard-id-document": "resident-id-card"}


async def test_the_openapi_document_validates_and_every_documented_route_answers(web: Web) -> None:
    person_id, card_no, citizen_id = await insured(web.mesh, 1801)
    async with web.http() as http:
        served = await http.get("/openapi.json")
        document = served.json()
        assert "frame-ancestors 'none'" in served.headers["content-security-policy"] and served.headers["x-content-type-options"] == "nosniff"
        validate(document)
        assert document["components"]["schemas"]["Error"]["properties"]["error"]["required"] == ["code", "status", "reason", "message"]
        signed = await http.post("/auth/staff", json={"operator_id": "op-api", "outlet": "OUTLET-999900-01", "password": web.staff_password})
        assert signed.status_code == 200 and http.cookies.get("sscard_session")
        values = {"card_no": card_no, "person_id": person_id}
        bodies = {
            "/v1/persons": {"citizen_id": make_citizen_id("110105", date(1970, 2, 2), 1802), "name": "郑十", "region_code": "999900",
                            "insured_category": "INSURED_CATEGORY_RESIDENT"},
            "/v1/persons:lookup": {"citizen_id": citizen_id},
            "/v1/progress:query": {"name": "吴九", "citizen_id": citizen_id},
            "/v1/cards": {"person_id": person_id, "kind": "APPLICATION_KIND_EXCHANGE", "channel": "APPLICATION_CHANNEL_OUTLET"},
            "/v1/cards/{card_no}:reportTemporaryLoss": {"channel": "LOSS_CHANNEL_OUTLET", "citizen_id": citizen_id, "name": "吴九"},
            "/v1/cards/{card_no}:liftLoss": {"channel": "LOSS_CHANNEL_OUTLET", "citizen_id": citizen_id},
        }
        answered: dict[str, int] = {}
        for template, operations in document["paths"].items():
            if template in ("/auth/signout", "/auth/staff", "/auth/citizen"):
                continue  # sign-in and sign-out are played above and below
            path = template.format(**values)
            for verb, operation in operations.items():
                if verb == "get":
                    response = await http.get(path, headers=WINDOW)
                else:
                    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
                    fields = document["components"]["schemas"].get(schema.get("$ref", "").rsplit("/", 1)[-1], {}).get("properties", {})
                    body = {**({"request_id": f"api-{operation['operationId']}"} if "request_id" in fields else {}), **bodies.get(template, {})}
                    if template.endswith(":reportFormalLoss"):
                        continue  # played last: it replaces the card the other routes use
                    response = await http.post(path, json=body, headers=WINDOW)
                answered[f"{verb.upper()} {template}"] = response.status_code
                assert response.status_code < 500, (template, response.text)
                if response.headers["content-type"].startswith("application/json"):
                    data = response.json()
                    if response.status_code >= 400:
                        assert {"code", "status", "reason", "message"} <= set(data["error"]), (template, data)
                        assert data["error"]["code"] == response.status_code
                        assert data["error"]["reason"] not in ("NO_POLICY", "INVALID_JSON_FIELD"), (template, data)
        formal = await http.post(f"/v1/cards/{card_no}:reportFormalLoss", headers=WINDOW,
                                 json={"request_id": "api-formal", "channel": "LOSS_CHANNEL_OUTLET", "citizen_id": citizen_id, "name": "吴九"})
        answered["POST /v1/cards/{card_no}:reportFormalLoss"] = formal.status_code
        assert formal.status_code == 200, formal.text
        assert (await http.post("/auth/signout")).status_code == 200
        documented = {f"{verb.upper()} {t}" for t, ops in document["paths"].items() for verb in ops} - {"POST /auth/signout", "POST /auth/staff", "POST /auth/citizen"}
        assert set(answered) == documented
        # What a clerk may do at the window went through; the rest was refused for a reason, not a routing failure.
        for ok in ("GET /v1/persons/{person_id}", "POST /v1/persons:lookup", "GET /v1/cards/{card_no}", "GET /v1/persons/{person_id}/cards",
                   "GET /v1/cards/{card_no}/loss", "GET /v1/cards/{card_no}/account", "GET /v1/cards/{card_no}/account/entries",
                   "POST /v1/progress:query", "POST /v1/persons", "POST /v1/cards/{card_no}:reportTemporaryLoss", "POST /v1/cards/{card_no}:liftLoss",
                   "GET /auth/me"):
            assert answered[ok] == 200, (ok, answered)
        assert answered["GET /v1/cards/{card_no}/pickup-certificate.pdf"] == 400  # the card was collected long ago: no certificate


async def test_a_call_without_a_credential_or_with_bad_json_is_refused_precisely_and_writes_nothing(web: Web) -> None:
    _, card_no, citizen_id = await insured(web.mesh, 1803)
    async with web.http() as http:
        anonymous = await http.get(f"/v1/cards/{card_no}")
        assert anonymous.status_code == 401 and anonymous.json()["error"]["reason"] == "CREDENTIAL_MISSING"
        bearer = {"authorization": "Bearer " + CLERK.token(), **WINDOW}
        card = await http.get(f"/v1/cards/{card_no}", headers=bearer)
        assert card.json()["card"]["card_no"] == card_no
        assert card.headers["cache-control"] == "no-store"  # personal data stays out of caches
        malformed = await http.post("/v1/persons", content=b"{not json", headers={**bearer, "content-type": "application/json"})
        assert malformed.status_code == 400 and malformed.json()["error"]["reason"] == "MALFORMED_JSON"
        unknown = await http.post("/v1/persons", json={"request_id": "x1", "citizen_idd": citizen_id}, headers=bearer)
        assert unknown.status_code == 400 and unknown.json()["error"]["reason"] == "INVALID_JSON_FIELD"
        assert unknown.json()["error"]["field"] == "citizen_idd"
        wrong = citizen_id[:-1] + ("0" if citizen_id[-1] != "0" else "1")
        bad = await http.post("/v1/persons", json={"request_id": "x2", "citizen_id": wrong, "name": "错号", "region_code": "999900",
                                                   "insured_category": "INSURED_CATEGORY_RESIDENT"}, headers=bearer)
        assert bad.status_code == 400
        assert bad.json()["error"] == {"code": 400, "status": "INVALID_ARGUMENT", "reason": "INVALID_CITIZEN_ID", "field": "citizen_id",
                                       "message": bad.json()["error"]["message"]}
        lookup = await http.post("/v1/persons:lookup", json={"citizen_id": wrong}, headers=bearer)
        assert (lookup.status_code, lookup.json()["error"]["reason"]) == (404, "PERSON_NOT_FOUND")  # nothing was written
        # A cookie session cannot be ridden by a cross-site form: a cookie POST must be JSON.
        await http.post("/auth/staff", json={"operator_id": "op-api", "outlet": "OUTLET-999900-01", "password": web.staff_password})
        forged = await http.post(f"/v1/cards/{card_no}:reportTemporaryLoss", content=b"channel=LOSS_CHANNEL_OUTLET",
                                 headers={"content-type": "application/x-www-form-urlencoded"})
        assert forged.status_code == 400 and forged.json()["error"]["reason"] == "JSON_REQUIRED"
        huge = await http.post("/v1/persons", content=b'{"name": "' + b"x" * 200_000 + b'"}', headers={**bearer, "content-type": "application/json"})
        assert huge.status_code == 413 and huge.json()["error"]["reason"] == "BODY_TOO_LARGE"  # read no further than 64 KiB

        async def unannounced():  # noqa: ANN202 - chunked: no content-length to refuse on
            for _ in range(100):
                yield b"x" * 4096

        chunked = await http.post("/auth/citizen", content=unannounced(), headers={"content-type": "application/json"})
        assert chunked.status_code == 413
        wrong_password = await http.post("/auth/staff", json={"operator_id": "op-api", "outlet": "OUTLET-999900-01", "password": "guess-guess-guess"})
        assert wrong_password.status_code == 401 and wrong_password.json()["error"]["field"] == "password"
    person = await web.mesh.client.identity.GetPerson(identity_pb2.GetPersonRequest(citizen_id=citizen_id))
    assert person.person.name == "吴九"


async def test_in_production_the_gateway_has_no_sign_in_of_its_own_and_dials_the_configured_targets(monkeypatch) -> None:  # noqa: ANN001
    import httpx

    from services.common.config import ConfigError
    from services.gateway.main import build
    from tests.harness import test_pki

    pki = test_pki()
    monkeypatch.setenv("SSCARD_ENV", "prod")
    monkeypatch.delenv("SSCARD_GATEWAY_SIGNING_KEY", raising=False)
    with pytest.raises(ConfigError, match="SSCARD_GATEWAY_SIGNING_KEY"):
        build(pki)
    monkeypatch.setenv("SSCARD_GATEWAY_SIGNING_KEY", str(pki / "service-identity.key"))
    for service in ("identity", "cards", "loss", "settlement"):
        monkeypatch.setenv(f"SSCARD_{service.upper()}_TARGET", f"{service}:5015{'1234'['identity cards loss settlement'.split().index(service)]}")
    gateway = build(pki)
    assert gateway.providers is None and gateway.targets["settlement"] == "settlement:50154"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.app()), base_url="https://gateway") as http:
        for route in ("/auth/citizen", "/auth/staff"):
            refused = await http.post(route, json={"name": "x", "citizen_id": "x", "operator_id": "x", "outlet": "x", "password": "x"})
            assert refused.status_code == 404 and refused.json()["error"]["reason"] == "NO_PROVIDER"
    await gateway.close()
