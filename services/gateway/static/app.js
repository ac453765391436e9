// sscard web channel: the forms of the citizen pages and the clerk console, over the gateway's
// HTTP/JSON API (/openapi.json). No framework: each <form data-route="POST /v1/cards/{card_no}:liftLoss">
// sends its fields as JSON (names with a dot nest: agent.name), path parameters from its fields, and
// shows the answer in its <output>, or the service's reason next to the field it names.
"use strict";

const LANG = new URLSearchParams(location.search).get("lang") === "en" ? "en" : "zh";
document.documentElement.lang = LANG === "en" ? "en" : "zh-CN";

const T = {
  zh: {
    title_citizen: "社会保障卡 · 个人服务", title_clerk: "社会保障卡 · 服务网点柜员台", lang_switch: "English",
    signin: "实名登录", signin_hint: "开发环境实名认证：姓名与身份证号须与登记一致。", name: "姓名", citizen_id: "公民身份号码",
    submit_signin: "登录", signout: "退出登录", signed_in_as: "已登录：",
    progress: "制卡进度查询", submit_progress: "查询", my_cards: "我的社会保障卡", refresh: "刷新",
    card_no: "卡号", state: "卡状态", loss_state: "挂失状态", loss_history: "挂失记录", ready_by: "预计可领取",
    report_loss: "临时挂失", lift_loss: "解除挂失", apply: "申请补换卡", kind: "申领类型", submit_apply: "提交申请",
    certificate: "下载领卡证明 (PDF)", account: "个人账户", balance: "余额", entries: "账户明细", show_account: "查看个人账户",
    amount: "金额", when: "时间", what: "类型", done: "已完成", operator_id: "柜员工号", outlet: "服务网点", password: "密码",
    staff_signin: "柜员登录", staff_hint: "开发环境柜员登录：密码见 `sscard up` 的输出。",
    id_document: "已核验的身份证件", id_document_hint: "窗口业务须记录柜员核验的证件（如：居民身份证）。",
    lookup: "查询参保人", register: "参保登记", region_code: "统筹区", insured_category: "参保类别",
    person_id: "人员编号", hand_out: "发卡", pickup_certificate_no: "领卡证明编号", activate: "启用", activation_channel: "启用渠道",
    formal_loss: "正式挂失（并补卡）", unlock: "解锁", reset_pin: "重置密码", production_failure: "登记制卡失败", reason: "原因",
    agent: "代办人（可选）", agent_citizen_id: "代办人身份证号", agent_name: "代办人姓名", relationship: "与本人关系",
    entrustment_ref: "委托书编号", channel: "渠道", cards: "名下卡片", none: "无",
  },
  en: {
    title_citizen: "Social security card · self-service", title_clerk: "Social security card · outlet console", lang_switch: "中文",
    signin: "Real-name sign-in", signin_hint: "Development real-name provider: name and ID number must match the register.",
    name: "Name", citizen_id: "Citizen ID number", submit_signin: "Sign in", signout: "Sign out", signed_in_as: "Signed in: ",
    progress: "Card-making progress", submit_progress: "Query", my_cards: "My cards", refresh: "Refresh",
    card_no: "Card number", state: "Card state", loss_state: "Loss state", loss_history: "Loss history", ready_by: "Ready from",
    report_loss: "Report temporary loss", lift_loss: "Lift the loss", apply: "Apply for a replacement", kind: "Application",
    submit_apply: "Apply", certificate: "Download the pickup certificate (PDF)", account: "Personal account", balance: "Balance",
    entries: "Entries", show_account: "Show the personal account", amount: "Amount", when: "When", what: "What", done: "Done",
    operator_id: "Operator id", outlet: "Outlet", password: "Password", staff_signin: "Clerk sign-in",
    staff_hint: "Development staff login: the password is printed by `sscard up`.",
    id_document: "ID document checked", id_document_hint: "A window act records the document the clerk checked (e.g. resident ID card).",
    lookup: "Look up a person", register: "Register a person", region_code: "Pooling region", insured_category: "Insured category",
    person_id: "Person id", hand_out: "Hand out a card", pickup_certificate_no: "Pickup certificate no.", activate: "Activate",
    activation_channel: "Activation channel", formal_loss: "Formal loss (with reissue)", unlock: "Unlock", reset_pin: "Reset PIN",
    production_failure: "Record a production failure", reason: "Reason", agent: "Proxy (optional)",
    agent_citizen_id: "Proxy's citizen ID", agent_name: "Proxy's name", relationship: "Relationship", entrustment_ref: "Entrustment letter no.",
    channel: "Channel", cards: "Cards", none: "none",
  },
};

// The services' reasons in plain words (others show the service's own message).
const REASONS = {
  zh: {
    INVALID_CITIZEN_ID: "身份证号码不正确（请核对位数和校验码）", FIELD_REQUIRED: "此项必填", PERSON_NOT_FOUND: "未找到该身份证号的参保登记",
    REAL_NAME_MISMATCH: "姓名与身份证号不一致", CARD_NOT_FOUND: "未找到该卡", CARD_REPORTED_LOST: "该卡已挂失",
    NOT_REPORTED_LOST: "该卡未挂失", LOSS_IS_FORMAL: "正式挂失须到服务网点办理", NOT_YOUR_RECORD: "只能办理本人的业务",
    ID_DOCUMENT_NOT_CHECKED: "请先填写已核验的身份证件", HOLDER_MISMATCH: "身份证号与持卡人不一致", NO_FORMAL_LOSS: "补领须先办理正式挂失",
    WRONG_PASSWORD: "密码错误", CREDENTIAL_MISSING: "请先登录", CREDENTIAL_EXPIRED: "登录已过期，请重新登录",
    PERSON_ALREADY_REGISTERED: "该身份证号已登记", INVALID_NAME: "姓名格式不正确", CHANNEL_NOT_ALLOWED: "本地区不支持通过此渠道办理",
  },
  en: {
    INVALID_CITIZEN_ID: "This ID number is not valid (check its length and check digit)", FIELD_REQUIRED: "Required",
    PERSON_NOT_FOUND: "No one is registered under this ID number", REAL_NAME_MISMATCH: "The name does not match the ID number",
    CARD_NOT_FOUND: "No such card", CARD_REPORTED_LOST: "This card is reported lost", NOT_REPORTED_LOST: "This card is not reported lost",
    LOSS_IS_FORMAL: "A formal loss is lifted at an outlet", NOT_YOUR_RECORD: "You can act only on your own records",
    ID_DOCUMENT_NOT_CHECKED: "Enter the ID document you checked first", HOLDER_MISMATCH: "The ID number is not the holder's",
    NO_FORMAL_LOSS: "A replacement needs a formal loss first", WRONG_PASSWORD: "Wrong password", CREDENTIAL_MISSING: "Sign in first",
    CREDENTIAL_EXPIRED: "Your session has expired: sign in again", PERSON_ALREADY_REGISTERED: "This ID number is already registered",
    INVALID_NAME: "This name is not valid", CHANNEL_NOT_ALLOWED: "This region does not offer this act through this channel",
  },
};

const STATES = {
  zh: { CARD_STATE_APPLIED: "已申请", CARD_STATE_IN_PRODUCTION: "制卡中", CARD_STATE_READY: "可领取", CARD_STATE_HANDED_OUT: "已领取",
        CARD_STATE_ACTIVE: "正常", CARD_STATE_FAILED: "制卡失败", CARD_STATE_RECALLED: "已召回", CARD_STATE_LOCKED: "已锁定",
        CARD_STATE_REPLACED: "已补换", CARD_STATE_CANCELLED: "已注销", LOSS_STATE_NONE: "未挂失", LOSS_STATE_TEMPORARY: "临时挂失",
        LOSS_STATE_FORMAL: "正式挂失" },
  en: {},
};

function t(key) { return (T[LANG] && T[LANG][key]) || T.en[key] || key; }
function stateName(value) { return (STATES[LANG] && STATES[LANG][value]) || String(value || "").replace(/^(CARD|LOSS)_STATE_/, "").toLowerCase(); }
function yuan(fen) { const n = Number(fen || 0); return (n < 0 ? "-" : "") + "¥" + (Math.abs(n) / 100).toFixed(2); }

function translate(root = document) {
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  const sw = document.getElementById("lang-switch");
  if (sw) { const q = new URLSearchParams(location.search); q.set("lang", LANG === "en" ? "zh" : "en"); sw.href = "?" + q; sw.textContent = t("lang_switch"); }
}

function requestId() { return (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).replace(/-/g, ""); }

async function api(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers }, credentials: "same-origin" };
  if (body !== undefined) { init.headers["content-type"] = "application/json"; init.body = JSON.stringify(body); }
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({ error: { reason: "BAD_RESPONSE", message: response.statusText } }));
  if (!response.ok) { const e = new Error(data.error?.message || response.statusText); e.detail = data.error || {}; throw e; }
  return data;
}

function reasonText(detail) { return (REASONS[LANG] && REASONS[LANG][detail.reason]) || detail.message || detail.reason; }

function clearErrors(form) {
  form.querySelectorAll(".field-error").forEach((p) => p.remove());
  form.querySelectorAll("[aria-invalid]").forEach((el) => { el.removeAttribute("aria-invalid"); el.removeAttribute("aria-describedby"); });
}

function showError(form, detail) {
  const input = detail.field && form.querySelector(`[name="${CSS.escape(detail.field)}"]`);
  const p = document.createElement("p");
  p.className = "field-error"; p.setAttribute("role", "alert"); p.dataset.reason = detail.reason || "";
  p.id = `${form.id || "form"}-${(detail.field || "form").replace(/\W/g, "_")}-error`;
  p.textContent = reasonText(detail);
  if (input) {
    input.setAttribute("aria-invalid", "true"); input.setAttribute("aria-describedby", p.id);
    input.closest("label, .field")?.after(p) || input.after(p); input.focus();
  } else { form.querySelector("button[type=submit]")?.before(p); }
}

function formBody(form) {
  const body = {};
  for (const el of form.elements) {
    if (!el.name || el.type === "submit" || el.dataset.header !== undefined) continue;
    const value = el.type === "checkbox" ? el.checked : el.value.trim();
    if (value === "") continue;
    const parts = el.name.split(".");
    let target = body;
    for (const part of parts.slice(0, -1)) target = target[part] = target[part] || {};
    target[parts.at(-1)] = value;
  }
  return body;
}

// Wires every <form data-route>: `onDone(form, data)` renders the answer.
function wireForms(root, options = {}) {
  root.querySelectorAll("form[data-route]").forEach((form) => {
    if (form.dataset.wired) return;
    form.dataset.wired = "1";
    form.dataset.requestId = requestId();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const [method, template] = form.dataset.route.split(" ");
      const body = formBody(form);
      if (form.dataset.idempotent !== undefined) body.request_id = form.dataset.requestId;
      const path = template.replace(/\{(\w+)\}/g, (_, name) => { const v = body[name] || ""; delete body[name]; return encodeURIComponent(v); });
      const headers = options.headers ? options.headers() : {};
      const output = form.querySelector("output");
      try {
        const data = method === "GET" ? await api("GET", path, undefined, headers) : await api(method, path, body, headers);
        form.dataset.requestId = requestId(); // the next act is a new one; a retry of this one would reuse it
        if (output) output.textContent = t("done");
        (options.onDone || (() => {}))(form, data);
      } catch (e) {
        if (output) output.textContent = "";
        showError(form, e.detail || { message: e.message });
      }
    });
  });
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) { if (k === "text") node.textContent = v; else node.setAttribute(k, v); }
  for (const c of children) node.append(c);
  return node;
}

window.sscard = { LANG, t, translate, api, wireForms, el, stateName, yuan, showError, clearErrors, requestId };
