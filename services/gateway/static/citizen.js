"use strict";
(() => {
const { t, translate, api, wireForms, el, stateName, yuan, LANG } = window.sscard;
let me = null;

function cardView(card, loss) {
  const box = el("article", { class: "card", "data-card": card.card_no, "aria-label": `${t("card_no")} ${card.card_no}` });
  const dl = el("dl");
  const rows = [["card_no", card.card_no], ["state", stateName(card.state)], ["loss_state", stateName(loss ? loss.state : "LOSS_STATE_NONE")]];
  if (card.ready_by) rows.push(["ready_by", card.ready_by]);
  for (const [k, v] of rows) { dl.append(el("dt", { text: t(k) }), el("dd", { text: v, "data-field": k })); }
  box.append(dl);
  if (loss && loss.history && loss.history.length) {
    const list = el("ul", { "aria-label": t("loss_history") });
    for (const h of loss.history) list.append(el("li", { text: `${h.at || ""} ${h.what} (${h.channel || ""})` }));
    box.append(el("p", { class: "hint", text: t("loss_history") }), list);
  }
  const usable = ["CARD_STATE_ACTIVE", "CARD_STATE_HANDED_OUT", "CARD_STATE_LOCKED"].includes(card.state);
  const actions = el("div", { class: "actions" });
  if (usable && (!loss || loss.state === "LOSS_STATE_NONE")) {
    const f = el("form", { "data-route": `POST /v1/cards/{card_no}:reportTemporaryLoss`, "data-idempotent": "", class: "inline", id: `report-${card.card_no}` });
    f.append(el("input", { type: "hidden", name: "card_no", value: card.card_no }), el("input", { type: "hidden", name: "channel", value: "LOSS_CHANNEL_WEBSITE" }),
             el("input", { type: "hidden", name: "citizen_id", value: card.citizen_id }), el("input", { type: "hidden", name: "name", value: card.name }),
             el("button", { type: "submit", text: t("report_loss") }), el("output"));
    actions.append(f);
  }
  if (loss && loss.state !== "LOSS_STATE_NONE") {
    const f = el("form", { "data-route": `POST /v1/cards/{card_no}:liftLoss`, "data-idempotent": "", id: `lift-${card.card_no}` });
    f.append(el("input", { type: "hidden", name: "card_no", value: card.card_no }), el("input", { type: "hidden", name: "channel", value: "LOSS_CHANNEL_WEBSITE" }),
             el("input", { type: "hidden", name: "citizen_id", value: card.citizen_id }), el("button", { type: "submit", class: "secondary", text: t("lift_loss") }), el("output"));
    actions.append(f);
  }
  if (card.pickup_certificate_no && ["CARD_STATE_APPLIED", "CARD_STATE_IN_PRODUCTION", "CARD_STATE_READY"].includes(card.state)) {
    actions.append(el("a", { href: `/v1/cards/${encodeURIComponent(card.card_no)}/pickup-certificate.pdf?lang=${LANG}`, download: "", text: t("certificate") }));
  }
  if (usable) {
    const show = el("button", { type: "button", class: "secondary", text: t("show_account") });
    show.addEventListener("click", () => showAccount(card.card_no));
    actions.append(show);
  }
  box.append(actions);
  return box;
}

function applyForm() {
  const f = el("form", { "data-route": "POST /v1/cards", "data-idempotent": "", id: "apply-form" });
  const kind = el("select", { name: "kind" });
  kind.append(el("option", { value: "APPLICATION_KIND_REISSUE", text: LANG === "en" ? "replacement (lost card)" : "补领（卡片遗失）" }),
              el("option", { value: "APPLICATION_KIND_EXCHANGE", text: LANG === "en" ? "exchange (damaged card)" : "换领（卡片损坏）" }));
  const label = el("label", {}, el("span", { text: t("kind") }), kind);
  f.append(el("input", { type: "hidden", name: "person_id", value: me.person_id }), el("input", { type: "hidden", name: "channel", value: "APPLICATION_CHANNEL_ONLINE" }),
           label, el("button", { type: "submit", text: t("submit_apply") }), el("output"));
  return el("div", {}, el("h3", { text: t("apply") }), f);
}

async function showAccount(cardNo) {
  const [account, entries] = await Promise.all([api("GET", `/v1/cards/${encodeURIComponent(cardNo)}/account`),
                                                api("GET", `/v1/cards/${encodeURIComponent(cardNo)}/account/entries`)]);
  document.getElementById("balance").textContent = yuan(account.balance_fen);
  const body = document.getElementById("entries");
  body.replaceChildren(...entries.entries.map((e) => el("tr", {}, el("td", { text: e.at || "" }), el("td", { text: e.kind.replace("ENTRY_KIND_", "").toLowerCase() }),
                                                                   el("td", { text: yuan(e.amount_fen) }))));
  document.getElementById("account").hidden = false;
}

async function refresh() {
  const list = document.getElementById("cards");
  const { cards } = await api("GET", `/v1/persons/${encodeURIComponent(me.person_id)}/cards`);
  const views = [];
  for (const card of cards) {
    const loss = ["CARD_STATE_ACTIVE", "CARD_STATE_HANDED_OUT", "CARD_STATE_LOCKED", "CARD_STATE_REPLACED"].includes(card.state)
      ? await api("GET", `/v1/cards/${encodeURIComponent(card.card_no)}/loss`).catch(() => null) : null;
    views.push(cardView(card, loss));
  }
  list.replaceChildren(...(views.length ? views : [el("p", { text: t("none") })]), applyForm());
  wireForms(list, { onDone: () => refresh() });
}

async function signedIn(who) {
  me = who;
  document.getElementById("who").textContent = t("signed_in_as") + (who.name || who.person_id);
  document.getElementById("signin").hidden = true;
  document.getElementById("mine").hidden = false;
  await refresh();
}

translate();
wireForms(document.getElementById("signin"), { onDone: (_, data) => signedIn(data) });
wireForms(document.getElementById("progress"), {
  onDone: (_, data) => {
    const out = document.getElementById("progress-result");
    out.replaceChildren(...(data.cards.length ? data.cards.map((c) => el("p", { "data-card": c.card_no,
      text: `${c.card_no || ""} ${stateName(c.state)}${c.ready_by ? " · " + t("ready_by") + " " + c.ready_by : ""}` })) : [el("p", { text: t("none") })]));
  },
});
document.getElementById("refresh").addEventListener("click", refresh);
document.getElementById("signout").addEventListener("click", async () => { await api("POST", "/auth/signout", {}); location.reload(); });
api("GET", "/auth/me").then((claims) => claims.kind === "citizen" && signedIn({ person_id: claims.person_id, name: "" })).catch(() => {});
})();
