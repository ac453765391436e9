"use strict";
(() => {
const { t, translate, api, wireForms, el, stateName } = window.sscard;
const documentHeader = () => {
  const doc = document.getElementById("id-document").value.trim();
  return doc ? { "x-sscard-id-document": doc } : {};
};

function showResult(form, data) {
  const card = data.card || (data.cards && data.cards[0]);
  const person = data.person;
  const out = form.querySelector("output");
  if (card) out.textContent = `${t("done")}: ${card.card_no} ${stateName(card.state)}${card.pickup_certificate_no ? " · " + t("pickup_certificate_no") + " " + card.pickup_certificate_no : ""}`;
  else if (person) out.textContent = `${t("done")}: ${person.name} ${t("person_id")} ${person.person_id}`;
  if (card) out.dataset.cardNo = card.card_no;
  if (card && card.pickup_certificate_no) out.dataset.certificate = card.pickup_certificate_no;
  if (person) out.dataset.personId = person.person_id;
}

async function showPerson(form, data) {
  const p = data.person;
  const box = document.getElementById("person");
  const { cards } = await api("GET", `/v1/persons/${encodeURIComponent(p.person_id)}/cards`);
  const rows = cards.map((c) => el("tr", { "data-card": c.card_no }, el("td", { text: c.card_no }), el("td", { text: stateName(c.state) }),
                                   el("td", { text: c.pickup_certificate_no || "" }), el("td", { text: c.ready_by || "" })));
  const table = el("table", {}, el("caption", { text: t("cards") }),
                   el("thead", {}, el("tr", {}, el("th", { text: t("card_no") }), el("th", { text: t("state") }), el("th", { text: t("pickup_certificate_no") }), el("th", { text: t("ready_by") }))),
                   el("tbody", {}, ...rows));
  box.replaceChildren(el("p", { "data-person": p.person_id, text: `${p.name} · ${t("person_id")} ${p.person_id} · ${p.region_code}` }), table);
}

function enter(claims) {
  document.getElementById("who").textContent = `${t("signed_in_as")}${claims.org || claims.outlet}/${claims.sub || claims.operator_id}`;
  document.getElementById("signin").hidden = true;
  document.getElementById("console").hidden = false;
}

translate();
wireForms(document.getElementById("signin"), { onDone: (_, data) => enter(data) });
wireForms(document.getElementById("console"), {
  headers: documentHeader,
  onDone: (form, data) => (form.id === "lookup-form" ? showPerson(form, data) : showResult(form, data)),
});
document.getElementById("signout").addEventListener("click", async () => { await api("POST", "/auth/signout", {}); location.reload(); });
api("GET", "/auth/me").then((claims) => claims.kind === "outlet_clerk" && enter(claims)).catch(() => {});
})();
