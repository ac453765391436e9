"""The web pages in real Chromium: what a citizen on a phone and an outlet clerk at the window do."""

from __future__ import annotations

from datetime import date, timedelta

import grpc
import pytest
from playwright.async_api import expect

from services import ops
from services.client import eventually
from services.common.citizen_id import make_citizen_id
from services.common.server import error_reason
from sscard.cards.v1 import cards_pb2
from sscard.identity.v1 import identity_pb2
from sscard.settlement.v1 import settlement_pb2 as spb
from tests.harness import PHARMACY
from tests.mesh.test_story import check, settle
from tests.service.test_settlement import insured
from tests.web.conftest import Web, new_page, screenshot

NAME = "吴九"  # insured()'s holder


async def sign_in_citizen(page, web: Web, name: str, citizen_id: str, lang: str = "") -> None:  # noqa: ANN001
    await page.goto(f"{web.url}/citizen{'?lang=' + lang if lang else ''}")
    form = page.locator("#signin-form")
    await form.get_by_label("姓名" if lang != "en" else "Name", exact=True).fill(name)
    await form.get_by_label("公民身份号码" if lang != "en" else "Citizen ID number", exact=True).fill(citizen_id)
    await form.get_by_role("button", name="登录" if lang != "en" else "Sign in").click()


async def sign_in_clerk(page, web: Web, operator: str = "op-web-01") -> None:  # noqa: ANN001
    await page.goto(f"{web.url}/clerk")
    form = page.locator("#staff-form")
    await form.get_by_label("柜员工号").fill(operator)
    await form.get_by_label("密码").fill(web.staff_password)
    await form.get_by_role("button", name="登录").click()
    await expect(page.locator("#console")).to_be_visible()
    await page.locator("#id-document").fill("resident-id-card 110105")


async def test_a_citizen_reports_a_loss_on_the_phone_and_the_pharmacy_is_refused(web: Web, browser) -> None:  # noqa: ANN001
    client = web.mesh.client
    _, card_no, citizen_id = await insured(web.mesh, 1701)
    md = await PHARMACY.signed_in(client.settlement)
    await settle(client, card_no, 500, "web-before")  # the card works

    page = await new_page(browser, phone=True)
    await sign_in_citizen(page, web, NAME, citizen_id)
    card = page.locator(f"article[data-card='{card_no}']")
    await expect(card.locator("[data-field=state]")).to_have_text("正常")
    await screenshot(page, "citizen-cards")
    await card.get_by_role("button", name="临时挂失").click()
    await expect(card.locator("[data-field=loss_state]")).to_have_text("临时挂失")
    await expect(page.locator(f"article[data-card='{card_no}'] li")).to_have_count(1)

    refusal = await eventually(lambda: check(client, card_no), lambda r: r.refusal_reason == "CARD_REPORTED_LOST", timeout=5)
    assert refusal.usability != spb.CARD_USABILITY_USABLE
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await client.settlement.Settle(spb.SettleRequest(msg_id="web-after", card_no=card_no, pin="802613", care_type=spb.CARE_TYPE_PHARMACY,
                                                         items=[spb.LineItem(code="X", catalog_class=spb.CATALOG_CLASS_A, amount_fen=500)]), metadata=md)
    assert error_reason(refused.value) == "CARD_REPORTED_LOST"

    # The loss service's audit names the signed-in citizen (web channel), not a name the request carried.
    # (The refused settlement reaches the loss service's trail too, as `loss.settlement_attempt`, when its event has arrived.)
    trail = [r for r in await ops.audit_trail("loss", web.mesh.settings("loss"), subject=card_no) if r.action.startswith("loss.reported")]
    assert [(r.action, r.channel) for r in trail] == [("loss.reported_temporary", "website")]
    assert trail[0].actor.startswith("citizen:")

    # Lifting online is a regional choice: the demo region lifts at a window only, and the page says so.
    await card.get_by_role("button", name="解除挂失").click()
    await expect(page.locator(".field-error")).to_contain_text("本地区不支持通过此渠道办理")


async def test_a_citizen_queries_progress_and_downloads_the_pickup_certificate(web: Web, browser) -> None:  # noqa: ANN001
    client = web.mesh.client
    citizen_id = make_citizen_id("110105", date(1990, 5, 4), 1702)
    person = (await client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
        request_id="web-reg-1702", citizen_id=citizen_id, name="李梅", region_code="999900",
        insured_category=identity_pb2.INSURED_CATEGORY_RESIDENT))).person
    applied = (await eventually(lambda: client.cards.ApplyForCard(cards_pb2.ApplyForCardRequest(
        request_id="web-apply-1702", person_id=person.person_id, channel=cards_pb2.APPLICATION_CHANNEL_OUTLET)), lambda r: True)).card

    page = await new_page(browser, phone=True)
    await page.goto(f"{web.url}/citizen")
    progress = page.locator("#progress-form")
    await progress.get_by_label("姓名").fill("李梅")
    await progress.get_by_label("公民身份号码").fill(citizen_id)
    await progress.get_by_role("button", name="查询").click()
    result = page.locator(f"#progress-result [data-card='{applied.card_no}']")
    await expect(result).to_contain_text(applied.ready_by)
    await screenshot(page, "citizen-progress")

    await sign_in_citizen(page, web, "李梅", citizen_id)
    link = page.get_by_role("link", name="下载领卡证明 (PDF)")
    async with page.expect_download() as download_info:
        await link.click()
    pdf = (await (await download_info.value).path()).read_bytes()
    assert pdf.startswith(b"%PDF") and applied.pickup_certificate_no.encode() in pdf and applied.card_no.encode() in pdf


async def test_a_clerk_does_formal_loss_reissue_and_hand_out_and_the_new_card_settles(web: Web, browser) -> None:  # noqa: ANN001
    mesh, client = web.mesh, web.mesh.client
    person_id, card_no, citizen_id = await insured(mesh, 1703)
    page = await new_page(browser)
    await sign_in_clerk(page, web)

    formal = page.locator("#formal-form")
    await formal.get_by_label("卡号").fill(card_no)
    await formal.get_by_label("公民身份号码").fill(citizen_id)
    await formal.get_by_label("姓名").fill(NAME)
    await formal.get_by_role("button").click()
    await expect(formal.locator("output")).to_contain_text("已完成")

    cards = (await eventually(lambda: client.cards.ListCards(cards_pb2.ListCardsRequest(person_id=person_id)), lambda r: len(r.cards) == 2)).cards
    reissue = next(c for c in cards if c.kind == cards_pb2.APPLICATION_KIND_REISSUE)
    assert reissue.replaces_card_no == card_no
    mesh.clock.set(mesh.clock.now() + timedelta(days=(date.fromisoformat(reissue.ready_by) - mesh.clock.now().date()).days))
    await eventually(lambda: client.cards.GetCard(cards_pb2.GetCardRequest(card_no=reissue.card_no)), lambda r: r.card.state == cards_pb2.CARD_STATE_READY)

    lookup = page.locator("#lookup-form")
    await lookup.get_by_label("公民身份号码").fill(citizen_id)
    await lookup.get_by_role("button").click()
    row = page.locator(f"#person tr[data-card='{reissue.card_no}']")
    await expect(row).to_contain_text("可领取")
    await expect(row).to_contain_text(reissue.pickup_certificate_no)
    await screenshot(page, "clerk-console")

    hand_out = page.locator("#handout-form")
    await hand_out.get_by_label("卡号").fill(reissue.card_no)
    await hand_out.get_by_label("领卡证明编号").fill(reissue.pickup_certificate_no)
    await hand_out.get_by_label("公民身份号码").fill(citizen_id)
    await hand_out.get_by_role("button").click()
    await expect(hand_out.locator("output")).to_contain_text("已领取")
    activate = page.locator("#activate-form")
    await activate.get_by_label("卡号").fill(reissue.card_no)
    await activate.get_by_role("button").click()
    await expect(activate.locator("output")).to_contain_text("正常")

    await eventually(lambda: check(client, reissue.card_no), lambda r: r.usability == spb.CARD_USABILITY_USABLE)
    settled = await settle(client, reissue.card_no, 1000, "web-new-card")
    assert settled.balance_fen == 100000 - 1000  # the new card took over the personal account
    # Every window act names the signed-in clerk and the ID document entered.
    trail = [r for r in await ops.audit_trail("cards", mesh.settings("cards"), subject=reissue.card_no) if not r.action.endswith(".read")]
    acts = {r.action: r for r in trail}
    assert acts["card.handed_out"].actor == "outlet_clerk:OUTLET-999900-01/op-web-01"
    assert acts["card.handed_out"].document.startswith("resident-id-card")
    loss = [r for r in await ops.audit_trail("loss", mesh.settings("loss"), subject=card_no) if r.action.startswith("loss.reported")]
    assert [(r.action, r.actor) for r in loss] == [("loss.reported_formal", "outlet_clerk:OUTLET-999900-01/op-web-01")]


async def test_a_wrong_id_number_shows_the_reason_beside_the_field_and_writes_nothing(web: Web, browser) -> None:  # noqa: ANN001
    client = web.mesh.client
    good = make_citizen_id("110105", date(1985, 3, 3), 1704)
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")  # the check character no longer matches

    page = await new_page(browser)
    await sign_in_clerk(page, web)
    register = page.locator("#register-form")
    await register.get_by_label("公民身份号码").fill(wrong)
    await register.get_by_label("姓名").fill("周七")
    await register.get_by_role("button").click()
    field = register.get_by_label("公民身份号码")
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(field).to_be_focused()  # a keyboard user lands on the field to fix
    message = register.locator(".field-error")
    await expect(message).to_have_text("身份证号码不正确（请核对位数和校验码）")
    assert await message.get_attribute("data-reason") == "INVALID_CITIZEN_ID"
    assert await field.get_attribute("aria-describedby") == await message.get_attribute("id")
    await screenshot(page, "clerk-wrong-id")
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await client.identity.GetPerson(identity_pb2.GetPersonRequest(citizen_id=good))
    assert error_reason(missing.value) == "PERSON_NOT_FOUND"  # nothing was written

    # The citizen's sign-in, in English, says the same beside its own field.
    citizen = await new_page(browser, phone=True)
    await sign_in_citizen(citizen, web, "周七", wrong, lang="en")
    await expect(citizen.locator("#signin-form .field-error")).to_have_text("This ID number is not valid (check its length and check digit)")
    await screenshot(citizen, "citizen-signin-en")


async def test_a_citizen_sees_the_account_and_applies_for_an_exchange_online(web: Web, browser) -> None:  # noqa: ANN001
    client = web.mesh.client
    person_id, card_no, citizen_id = await insured(web.mesh, 1705)
    await settle(client, card_no, 1234, "web-account")
    page = await new_page(browser, phone=True)
    await sign_in_citizen(page, web, NAME, citizen_id)
    await page.locator(f"article[data-card='{card_no}']").get_by_role("button", name="查看个人账户").click()
    await expect(page.locator("#balance")).to_have_text("¥987.66")  # 1,000 yuan allocated, 12.34 paid
    await expect(page.locator("#entries tr")).to_have_count(2)
    await screenshot(page, "citizen-account")

    apply = page.locator("#apply-form")
    await apply.get_by_label("申领类型").select_option("APPLICATION_KIND_EXCHANGE")
    await apply.get_by_role("button", name="提交申请").click()
    exchange = await eventually(lambda: client.cards.ListCards(cards_pb2.ListCardsRequest(person_id=person_id)), lambda r: len(r.cards) == 2)
    new = next(c for c in exchange.cards if c.kind == cards_pb2.APPLICATION_KIND_EXCHANGE)
    assert new.channel == cards_pb2.APPLICATION_CHANNEL_ONLINE
    await expect(page.get_by_role("link", name="下载领卡证明 (PDF)")).to_be_visible()
    trail = [r for r in await ops.audit_trail("cards", web.mesh.settings("cards"), subject=new.card_no) if not r.action.endswith(".read")]
    assert trail[0].action == "card.applied" and trail[0].actor == f"citizen:{person_id}"


async def test_a_clerk_applies_through_a_proxy_and_records_a_production_failure(web: Web, browser) -> None:  # noqa: ANN001
    client = web.mesh.client
    citizen_id = make_citizen_id("110105", date(1950, 8, 8), 1706)
    person = (await client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
        request_id="web-reg-1706", citizen_id=citizen_id, name="王奶奶", region_code="999900",
        insured_category=identity_pb2.INSURED_CATEGORY_RESIDENT))).person
    proxy_id = make_citizen_id("110105", date(1980, 8, 8), 1707)
    page = await new_page(browser)
    await sign_in_clerk(page, web)
    apply = page.locator("#apply-form")
    await apply.get_by_label("人员编号").fill(person.person_id)
    await apply.get_by_label("代办人身份证号").fill(proxy_id)
    await apply.get_by_label("代办人姓名").fill("王小明")
    await apply.get_by_label("与本人关系").fill("grandson")
    await apply.get_by_label("委托书编号").fill("WT-1706")
    await apply.get_by_role("button").click()
    await expect(apply.locator("output")).to_contain_text("领卡证明编号")
    card_no = await apply.locator("output").get_attribute("data-card-no")
    trail = [r for r in await ops.audit_trail("cards", web.mesh.settings("cards"), subject=card_no) if not r.action.endswith(".read")]
    assert trail[0].actor == "outlet_clerk:OUTLET-999900-01/op-web-01"
    assert "grandson" in trail[0].agent and "WT-1706" in trail[0].agent and proxy_id not in trail[0].agent  # the proxy, ID masked

    failure = page.locator("#failure-form")
    await failure.get_by_label("卡号").fill(card_no)
    await failure.get_by_label("原因").select_option("FAILURE_REASON_PHOTO_NOT_COMPLIANT")
    await failure.get_by_role("button").click()
    await expect(failure.locator("output")).to_contain_text("制卡失败")
    failed = await client.cards.GetCard(cards_pb2.GetCardRequest(card_no=card_no))
    assert failed.card.state == cards_pb2.CARD_STATE_FAILED
