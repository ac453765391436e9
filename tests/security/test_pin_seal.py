"""No PIN material on the bus that a reader could test guesses against: the CARDS stream carries
the PIN verifier only sealed for settlement (pinseal.py), never the salt or the peppered hash."""

from __future__ import annotations

import pytest

from services.cards import store as cards_store
from services.common import pinseal
from services.settlement import store as settlement_store
from tests.harness import Mesh, nats_connect
from tests.mesh.test_loss import holder
from tests.mesh.test_story import settle


async def test_the_cards_stream_carries_no_testable_pin_verifier(mesh: Mesh) -> None:
    client = await mesh.start()
    _, card_no, _ = await holder(mesh, serial=71)  # PIN changed from 123456 to PIN
    await mesh.settle_idle()
    card = await mesh.runtimes["cards"].db.read(lambda c: cards_store.get_card(c, card_no))
    assert card is not None and card.pin_enabled and card.pin_hash and card.pin_salt

    nc = await nats_connect(mesh.nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info("CARDS")
        raw = [(await js.get_msg("CARDS", seq)).data for seq in range(info.state.first_seq, info.state.last_seq + 1)]
    finally:
        await nc.close()
    assert raw and not any(card.pin_hash.encode() in data or card.pin_salt.encode() in data for data in raw)

    # Settlement opened the seal and checks the PIN at the POS without a hop.
    projection = await mesh.runtimes["settlement"].db.read(lambda c: settlement_store.get_card(c, card_no))
    assert (projection.pin_hash, projection.pin_salt) == (card.pin_hash, card.pin_salt)
    assert (await settle(client, card_no, 100, "sealed-pin")).acct_pay_fen == 100

    sealed = pinseal.seal(b"the seal key", card_no, card.pin_hash, card.pin_salt)
    with pytest.raises(ValueError):
        pinseal.unseal(mesh.runtimes["cards"].settings.pin_pepper, card_no, sealed)  # the pepper does not open it
    with pytest.raises(ValueError):
        pinseal.unseal(b"the seal key", "C0000000000", sealed)  # nor does it move to another card

