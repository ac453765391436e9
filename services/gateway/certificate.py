"""The pickup certificate (领卡证明) as a PDF: what the applicant shows at the outlet to collect the
card (Beijing: an electronic document saved at application). Chinese text in the standard CID
font STSong-Light (PDF viewers supply it: nothing to embed or ship)."""

from __future__ import annotations

import io
from datetime import datetime, timezone

from reportlab.lib.pagesizes import A5
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from services.common.citizen_id import mask_citizen_id
from sscard.cards.v1 import cards_pb2

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
PENDING = {cards_pb2.CARD_STATE_APPLIED, cards_pb2.CARD_STATE_IN_PRODUCTION, cards_pb2.CARD_STATE_READY}
TEXT = {
    "zh": {"title": "社会保障卡领卡证明", "name": "姓名", "citizen_id": "公民身份号码", "card_no": "社会保障卡卡号", "kind": "申领类型",
           "certificate": "领卡证明编号", "ready_by": "预计可领取日期", "fee": "工本费", "note": "请持本证明和本人有效身份证件到服务网点领卡；代领须携带代领人身份证件和委托书。",
           "issued": "开具时间", "kinds": {1: "首次申领", 2: "补领", 3: "换领", 4: "重新制卡"}, "yuan": "元"},
    "en": {"title": "Social Security Card — Pickup Certificate", "name": "Name", "citizen_id": "Citizen ID", "card_no": "Card number",
           "kind": "Application", "certificate": "Certificate no.", "ready_by": "Ready from", "fee": "Fee",
           "note": "Bring this certificate and your ID document to the outlet; a proxy brings their own ID and the entrustment letter.",
           "issued": "Issued", "kinds": {1: "first card", 2: "replacement", 3: "exchange", 4: "remake"}, "yuan": "yuan"},
}


class NoCertificate(Exception):
    pass


def render(card: cards_pb2.Card, lang: str = "zh", now: datetime | None = None) -> bytes:
    if not card.pickup_certificate_no or card.state not in PENDING:
        raise NoCertificate(f"card {card.card_no} has no pickup certificate to collect (it was handed out or never applied for)")
    t = TEXT.get(lang, TEXT["zh"])
    now = now or datetime.now(timezone.utc)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A5, pageCompression=0)
    pdf.setTitle(f"{t['title']} {card.pickup_certificate_no}")
    width, height = A5
    pdf.setFont(FONT, 16)
    pdf.drawCentredString(width / 2, height - 60, t["title"])
    rows = [
        (t["name"], card.name),
        (t["citizen_id"], mask_citizen_id(card.citizen_id)),
        (t["card_no"], card.card_no),
        (t["kind"], t["kinds"].get(card.kind, "")),
        (t["certificate"], card.pickup_certificate_no),
        (t["ready_by"], card.ready_by),
        (t["fee"], f"{card.fee_fen // 100}.{card.fee_fen % 100:02d} {t['yuan']}"),
        (t["issued"], now.strftime("%Y-%m-%d %H:%M UTC")),
    ]
    y = height - 110
    for label, value in rows:
        pdf.setFont(FONT, 10)
        pdf.drawString(40, y, label)
        pdf.setFont("Helvetica" if value.isascii() else FONT, 11)
        pdf.drawString(150, y, value)
        y -= 24
    pdf.setFont(FONT, 8)
    text = pdf.beginText(40, y - 10)
    text.setFont(FONT, 8)
    line = ""
    for char in t["note"]:  # wrap by width (Chinese has no spaces to break at)
        if pdf.stringWidth(line + char, FONT, 8) > width - 80:
            text.textLine(line)
            line = ""
        line += char
    text.textLine(line)
    pdf.drawText(text)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
