// The waitpoints console: sign in with a secret key, list and filter tokens, open one, act on it.
// Views are rebuilt from data with dom.js (text nodes only); the URL's hash holds the view and the filters, so
// back/forward, reload and links work. The secret key lives in sessionStorage (this tab) and in memory, nowhere else.

import { ACTION_ROUTES, Api, ApiError, watchToken, websocketUrl } from "./api.js";
import { append, h, when } from "./dom.js";
import { describeJsonError, unchecked, validate } from "./schema.js";

const KEY_STORAGE = "waitpoints.console.secretKey";
const STATUSES = ["WAITING", "COMPLETED", "TIMED_OUT", "REJECTED"];
const PERIODS = ["", "1h", "24h", "7d", "30d"];
const PAGE_SIZES = ["5", "10", "25", "50", "100"];
// The hash's names for the list's query parameters.
const LIST_PARAMS = {
  status: "filter[status]",
  tags: "filter[tags]",
  key: "filter[idempotencyKey]",
  period: "filter[createdAt][period]",
  from: "filter[createdAt][from]",
  to: "filter[createdAt][to]",
  size: "page[size]",
  after: "page[after]",
  before: "page[before]",
};
const ACTION_NAMES = { complete: "Complete", reject: "Reject", timeout: "Force timeout", extend: "Extend" };

const main = document.getElementById("main");
const wide = window.matchMedia("(min-width: 700px)"); // phones start with the filters folded
const live = document.getElementById("live");
const state = {
  api: null,
  routes: null, // Promise<Set | null>: the server's routes, from its OpenAPI document
  unavailable: new Set(), // actions the server answered 404/405 for
  lastList: "#/tokens",
  renderId: 0,
  focus: "heading", // what to focus after the next render: "heading" | "results" | "notice"
  notice: null, // {kind, text} shown once at the top of the next view
  stopWatching: () => {}, // closes the open token's WebSocket subscription
};

// --- sign in / out --------------------------------------------------------------------------------------

function signedIn(key) {
  state.api = new Api(key);
  const env = document.getElementById("env");
  env.hidden = false;
  env.replaceChildren("Environment ", h("strong", {}, state.api.environment ?? "unknown"));
  document.getElementById("signout").hidden = false;
}

function signOut(message) {
  sessionStorage.removeItem(KEY_STORAGE);
  state.api = null;
  state.unavailable.clear();
  document.getElementById("env").hidden = true;
  document.getElementById("signout").hidden = true;
  state.notice = message ? { kind: "error", text: message } : { kind: "info", text: "Signed out. The key was removed from this tab." };
  if (location.hash && location.hash !== "#/") location.hash = "#/";
  else render();
}

function renderSignIn() {
  const error = h("p", { class: "form-error", id: "signin-error", role: "alert" });
  const input = h("input", {
    id: "secret-key",
    name: "secret-key",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    autocapitalize: "off",
    required: true,
    "aria-describedby": "secret-key-help signin-error",
  });
  const button = h("button", { type: "submit", class: "button primary" }, "Sign in");
  const form = h(
    "form",
    { class: "stack", onsubmit: (event) => submitSignIn(event, input, button, error), novalidate: true },
    h("label", { for: "secret-key" }, "Secret key"),
    input,
    h("p", { class: "help", id: "secret-key-help" }, "A key from ", h("code", {}, "make key ENV=<name>"), ", such as ", h("code", {}, "wp_dev_…"), ". It stays in this tab (session storage) until you sign out or close the tab, and is sent only to this server."),
    error,
    h("div", {}, button),
  );
  show(main, 
    h("section", { class: "card signin" }, noticeElement(), h("h1", { tabindex: "-1" }, "Sign in to the console"), form),
  );
  focusAfterRender(input);
}

async function submitSignIn(event, input, button, error) {
  event.preventDefault();
  const key = input.value.trim();
  error.textContent = "";
  input.removeAttribute("aria-invalid");
  if (!key) return refuse("Paste a secret key to sign in.");
  button.disabled = true;
  button.textContent = "Checking…";
  try {
    await new Api(key).list({ "page[size]": 1 });
  } catch (failure) {
    button.disabled = false;
    button.textContent = "Sign in";
    if (failure instanceof ApiError && (failure.status === 401 || failure.status === 403)) {
      return refuse("This key was not accepted. Paste the whole secret key (wp_<env>_…); revoked keys and public access tokens cannot sign in.");
    }
    return refuse(`Could not sign in: ${failure.message}`);
  }
  sessionStorage.setItem(KEY_STORAGE, key);
  signedIn(key);
  announce("Signed in.");
  state.focus = "heading";
  if (!location.hash.startsWith("#/tokens")) location.hash = "#/tokens";
  else render();

  function refuse(message) {
    error.textContent = message;
    input.setAttribute("aria-invalid", "true");
    input.focus();
    input.select();
  }
}

// --- routing --------------------------------------------------------------------------------------------

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/tokens";
  const [path, query = ""] = raw.split("?");
  const token = /^\/tokens\/([^/]+)$/.exec(path);
  if (token) return { view: "token", id: decodeURIComponent(token[1]) };
  return { view: "list", params: new URLSearchParams(query) };
}

async function render() {
  const renderId = ++state.renderId;
  state.stopWatching();
  state.stopWatching = () => {};
  if (!state.api) return renderSignIn();
  const route = parseHash();
  if (route.view === "token") return renderToken(route.id, renderId);
  state.lastList = location.hash || "#/tokens";
  return renderList(route.params, renderId);
}

/** Replace an element's children; null and undefined children are skipped (replaceChildren would print "null"). */
function show(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

function focusAfterRender(fallback) {
  const target =
    (state.focus === "results" && main.querySelector("#results-heading")) ||
    (state.focus === "notice" && main.querySelector(".notice")) ||
    fallback ||
    main.querySelector("h1");
  state.focus = "heading";
  target?.focus();
}

function announce(text) {
  live.textContent = "";
  setTimeout(() => (live.textContent = text), 50);
}

function noticeElement() {
  if (!state.notice) return null;
  const { kind, text } = state.notice;
  state.notice = null;
  return h("p", { class: `notice ${kind}`, tabindex: "-1", role: kind === "error" ? "alert" : "status" }, text);
}

function failureView(failure, title) {
  if (failure instanceof ApiError && failure.status === 401) {
    signOut("Your key is no longer accepted (revoked?). Sign in again.");
    return null;
  }
  return h("section", { class: "card" }, h("h1", { tabindex: "-1" }, title), h("p", { class: "notice error", role: "alert" }, failure.message));
}

// --- the token list -------------------------------------------------------------------------------------

function listQuery(params) {
  const query = {};
  for (const [short, name] of Object.entries(LIST_PARAMS)) {
    const value = params.get(short);
    if (value) query[name] = value;
  }
  query["page[size]"] ??= "25";
  return query;
}

function toLocalInput(iso) {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return "";
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 16);
}

function filterForm(params) {
  const selected = new Set((params.get("status") ?? "").split(",").filter(Boolean));
  const field = (id, label, input, help) =>
    h("div", { class: "field" }, h("label", { for: id }, label), input, help ? h("p", { class: "help", id: `${id}-help` }, help) : null);
  const statuses = h(
    "fieldset",
    { class: "field statuses" },
    h("legend", {}, "Status"),
    STATUSES.map((status) =>
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "status", value: status, checked: selected.has(status) }), h("span", { class: `badge ${status}` }, status)),
    ),
  );
  const form = h(
    "form",
    { class: "filters", id: "filters", role: "search", "aria-label": "Filter tokens", onsubmit: applyFilters },
    statuses,
    field("f-tags", "Tags", h("input", { id: "f-tags", name: "tags", value: params.get("tags") ?? "", placeholder: "approval, billing", "aria-describedby": "f-tags-help" }), "Any of these (comma-separated, up to 10)"),
    field("f-key", "Idempotency key", h("input", { id: "f-key", name: "key", value: params.get("key") ?? "", autocomplete: "off" })),
    field("f-period", "Created within", h("select", { id: "f-period", name: "period" }, PERIODS.map((p) => h("option", { value: p, selected: (params.get("period") ?? "") === p }, p ? `the last ${p}` : "any time")))),
    field("f-from", "Created from", h("input", { id: "f-from", name: "from", type: "datetime-local", value: toLocalInput(params.get("from")), "aria-describedby": "f-from-help" }), "Your local time, inclusive"),
    field("f-to", "Created to", h("input", { id: "f-to", name: "to", type: "datetime-local", value: toLocalInput(params.get("to")), "aria-describedby": "f-to-help" }), "Your local time, inclusive"),
    field("f-size", "Per page", h("select", { id: "f-size", name: "size" }, PAGE_SIZES.map((s) => h("option", { value: s, selected: (params.get("size") ?? "25") === s }, s)))),
    h("div", { class: "filter-buttons" }, h("button", { type: "submit", class: "button primary" }, "Apply filters"), h("a", { class: "button ghost", href: "#/tokens", onclick: () => (state.focus = "results") }, "Clear")),
  );
  return form;
}

function applyFilters(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const data = new FormData(form);
  const params = new URLSearchParams();
  const statuses = data.getAll("status");
  if (statuses.length) params.set("status", statuses.join(","));
  const tags = String(data.get("tags") ?? "").split(",").map((t) => t.trim()).filter(Boolean);
  if (tags.length) params.set("tags", tags.join(","));
  for (const name of ["key", "period"]) if (data.get(name)) params.set(name, String(data.get(name)));
  for (const name of ["from", "to"]) {
    const value = String(data.get(name) ?? "");
    if (value) params.set(name, new Date(value).toISOString());
  }
  if (data.get("size") && data.get("size") !== "25") params.set("size", String(data.get("size")));
  state.focus = "results";
  navigate(`#/tokens${params.size ? "?" + params : ""}`);
}

function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

function pageLink(params, cursorName, cursor, label, rel) {
  const next = new URLSearchParams(params);
  next.delete("after");
  next.delete("before");
  next.set(cursorName, cursor);
  return h("a", { class: "button", href: `#/tokens?${next}`, rel, onclick: () => (state.focus = "results") }, label);
}

async function renderList(params, renderId) {
  const results = h("section", { class: "card results", "aria-labelledby": "results-heading" }, h("p", { class: "muted" }, "Loading tokens…"));
  show(main, 
    noticeElement(),
    h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Tokens")),
    h("details", { class: "card filters-card", open: wide.matches || [...params.keys()].some((k) => !["after", "before", "size"].includes(k)) }, h("summary", {}, "Filters"), filterForm(params)),
    results,
  );
  const query = listQuery(params);
  let page;
  try {
    page = await state.api.list(query);
  } catch (failure) {
    if (renderId !== state.renderId) return;
    const view = failureView(failure, "Tokens");
    if (!view) return;
    let message = failure.message;
    if ((params.get("status") ?? "").includes("REJECTED") && failure.status === 400 && /status/.test(message)) {
      message = `${message}. The REJECTED filter is not available on this server yet.`;
    }
    show(results, h("h2", { id: "results-heading", tabindex: "-1" }, "No results"), h("p", { class: "notice error", role: "alert" }, message));
    return focusAfterRender();
  }
  if (renderId !== state.renderId) return;
  const tokens = Array.isArray(page?.data) ? page.data : [];
  const pagination = page?.pagination ?? {};
  const paged = params.has("after") || params.has("before");
  const heading = h(
    "h2",
    { id: "results-heading", tabindex: "-1" },
    tokens.length ? `${tokens.length} token${tokens.length === 1 ? "" : "s"} on this page` : "No tokens match",
  );
  const pager = h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    pagination.previous ? pageLink(params, "before", pagination.previous, "← Previous", "prev") : h("span", { class: "button disabled", "aria-disabled": "true" }, "← Previous"),
    paged ? h("a", { class: "button ghost", href: firstPage(params), onclick: () => (state.focus = "results") }, "First page") : null,
    pagination.next ? pageLink(params, "after", pagination.next, "Next →", "next") : h("span", { class: "button disabled", "aria-disabled": "true" }, "Next →"),
  );
  show(results, heading, tokens.length ? tokenTable(tokens) : h("p", { class: "muted" }, "Try fewer filters, or create a token with POST /api/v1/waitpoints/tokens."), pager);
  announce(heading.textContent);
  focusAfterRender();
}

function firstPage(params) {
  const first = new URLSearchParams(params);
  first.delete("after");
  first.delete("before");
  return `#/tokens${first.size ? "?" + first : ""}`;
}

function displayStatus(token) {
  return token.rejected === true ? "REJECTED" : String(token.status ?? "UNKNOWN");
}

function badge(token) {
  const status = displayStatus(token);
  return h("span", { class: `badge ${status}` }, status);
}

function tags(list) {
  if (!Array.isArray(list) || !list.length) return h("span", { class: "muted" }, "—");
  return h("ul", { class: "tags" }, list.map((tag) => h("li", {}, String(tag))));
}

function tokenTable(tokens) {
  const head = h("thead", {}, h("tr", {}, ["Token", "Status", "Tags", "Created", "Times out", "Completed"].map((c) => h("th", { scope: "col" }, c))));
  const rows = tokens.map((token) =>
    h(
      "tr",
      {},
      h("th", { scope: "row", "data-label": "Token" }, h("a", { class: "token-link", href: `#/tokens/${encodeURIComponent(token.id)}` }, String(token.id)), token.idempotencyKey ? h("span", { class: "sub" }, "key ", h("code", {}, String(token.idempotencyKey))) : null),
      h("td", { "data-label": "Status" }, badge(token)),
      h("td", { "data-label": "Tags" }, tags(token.tags)),
      h("td", { "data-label": "Created" }, when(token.createdAt)),
      h("td", { "data-label": "Times out" }, when(token.timeoutAt)),
      h("td", { "data-label": "Completed" }, when(token.completedAt)),
    ),
  );
  return h("div", { class: "table-wrap" }, h("table", { class: "tokens" }, head, h("tbody", {}, rows)));
}

// --- one token ------------------------------------------------------------------------------------------

const KNOWN_FIELDS = new Set([
  "id", "url", "status", "description", "createdAt", "tags", "timeoutAt", "completedAt", "idempotencyKey", "idempotencyKeyExpiresAt",
  "output", "outputType", "outputIsError", "deliveriesReceived", "lastDeliveryAt", "rejected", "rejectReason",
  "audit", "waiters", "waitersTruncated", "schema",
]);

function fieldList(token) {
  const rows = [
    ["Status", badge(token)],
    ["Description", token.description ? String(token.description) : null],
    ["Created", when(token.createdAt)],
    ["Times out", when(token.timeoutAt)],
    ["Completed", when(token.completedAt)],
    ["Tags", tags(token.tags)],
    ["Idempotency key", token.idempotencyKey ? h("code", {}, String(token.idempotencyKey)) : null],
    ["Key expires", token.idempotencyKeyExpiresAt ? when(token.idempotencyKeyExpiresAt) : null],
    ["Output is an error", token.outputIsError === undefined ? null : token.outputIsError ? "yes" : "no"],
    ["Reject reason", token.rejectReason ? String(token.rejectReason) : null],
    ["Deliveries received", token.deliveriesReceived ?? null],
    ["Last delivery", token.lastDeliveryAt ? when(token.lastDeliveryAt) : null],
    ["Callback URL", token.url ? h("code", { class: "wrap" }, String(token.url)) : null],
  ];
  return h("dl", { class: "fields" }, rows.filter(([, value]) => value !== null && value !== undefined).map(([name, value]) => h("div", {}, h("dt", {}, name), h("dd", {}, value))));
}

function outputView(token) {
  if (token.output === undefined) return h("p", { class: "muted" }, token.status === "WAITING" ? "No output yet: the token is waiting." : "No output.");
  let text = String(token.output);
  let kind = token.outputType ?? "text/plain";
  if (kind === "application/json") {
    try {
      text = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      kind = "text (not valid JSON)";
    }
  }
  return [
    h("p", { class: "muted small" }, kind, token.outputIsError ? h("span", { class: "badge TIMED_OUT inline" }, "error") : null),
    h("pre", { class: `code${token.outputIsError ? " is-error" : ""}`, tabindex: "0", "aria-label": "Output" }, text),
  ];
}

function objectView(value) {
  if (value === null || typeof value !== "object") return h("code", {}, JSON.stringify(value));
  return h(
    "dl",
    { class: "fields" },
    Object.entries(value).map(([name, inner]) =>
      h("div", {}, h("dt", {}, name), h("dd", {}, inner !== null && typeof inner === "object" ? h("pre", { class: "code small" }, JSON.stringify(inner, null, 2)) : /At$/.test(name) ? when(inner) : String(inner))),
    ),
  );
}

function auditView(token) {
  if (token.audit === undefined) return h("p", { class: "muted" }, token.status === "WAITING" ? "No audit record yet: the token has not finished." : "This server does not return an audit record yet.");
  return objectView(token.audit);
}

const WAITER_KINDS = { stepFunctions: "Step Functions task", durable: "Lambda durable callback" };

function waitersView(token) {
  if (token.waiters === undefined) return h("p", { class: "muted" }, "This server does not list waiters yet.");
  if (!Array.isArray(token.waiters) || !token.waiters.length) return h("p", { class: "muted" }, "Nothing is waiting on this token.");
  return [
    h("ol", { class: "waiters" }, token.waiters.map((waiter) => h("li", {}, waiterView(waiter, token)))),
    token.waitersTruncated === true ? h("p", { class: "muted small" }, `The first ${token.waiters.length} are shown; the token has more waiters.`) : null,
  ];
}

/** One waiter: what kind of workflow, a digest of its handle (the handle itself is a secret the API never returns), and when. */
function waiterView(waiter, token) {
  const pending = token.status === "WAITING" ? "Not yet: waiting on this token" : "Not yet: the resume is pending";
  const rows = [
    ["Kind", WAITER_KINDS[waiter?.kind] ?? String(waiter?.kind ?? "unknown")],
    ["Handle digest", waiter?.digest ? h("code", { title: "The first 12 hex digits of the SHA-256 of its task token or callback id" }, String(waiter.digest)) : "—"],
    ["Attached", when(waiter?.attachedAt)],
    ["Resumed", waiter?.resumedAt ? when(waiter.resumedAt) : h("span", { class: "muted" }, pending)],
  ];
  return h("dl", { class: "fields" }, rows.map(([name, value]) => h("div", {}, h("dt", {}, name), h("dd", {}, value))));
}

function section(title, ...content) {
  const id = `s-${title.toLowerCase().replace(/[^a-z]+/g, "-")}`;
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), content);
}

async function renderToken(id, renderId) {
  const back = h("a", { class: "back", href: state.lastList }, "← All tokens");
  show(main, back, h("h1", { tabindex: "-1", class: "token-title" }, "Token ", h("code", {}, id)), h("p", { class: "muted" }, "Loading…"));
  let token;
  let routes;
  try {
    [token, routes] = await Promise.all([state.api.retrieve(id), state.routes]);
  } catch (failure) {
    if (renderId !== state.renderId) return;
    const missing = failure instanceof ApiError && failure.status === 404;
    const view = missing
      ? h("section", { class: "card" }, h("h1", { tabindex: "-1" }, "Token not found"), h("p", {}, "No token ", h("code", {}, id), " in this environment. It may never have existed, belong to another environment, or be past its retention."))
      : failureView(failure, "Token");
    if (!view) return;
    show(main, back, view);
    return focusAfterRender();
  }
  if (renderId !== state.renderId) return;
  const extra = Object.fromEntries(Object.entries(token).filter(([name]) => !KNOWN_FIELDS.has(name)));
  show(main, 
    back,
    h("div", { class: "page-head" }, h("h1", { tabindex: "-1", class: "token-title" }, h("code", {}, String(token.id))), badge(token)),
    noticeElement(),
    token.status === "WAITING" ? actionsView(token, routes) : null,
    h("div", { class: "columns" }, section("Fields", fieldList(token)), section("Output", outputView(token))),
    h("div", { class: "columns" }, section("Audit", auditView(token)), section("Waiters", waitersView(token))),
    Object.keys(extra).length ? section("Other fields", h("pre", { class: "code small" }, JSON.stringify(extra, null, 2))) : null,
  );
  focusAfterRender();
  liveUpdates(token, renderId);
}

/** While the token is open and waiting, re-render it when the WebSocket API says it changed (no reload). */
function liveUpdates(token, renderId) {
  const wsUrl = websocketUrl();
  if (!wsUrl || token.status !== "WAITING") return;
  state.stopWatching = watchToken(wsUrl, state.api.key, token.id, (transition) => {
    if (renderId !== state.renderId) return;
    state.notice = { kind: "info", text: `Updated live: ${transition.replace("_", " ")}.` };
    announce(`Token ${transition.replace("_", " ")}`);
    render();
  });
}

// --- actions --------------------------------------------------------------------------------------------

function available(action, routes) {
  if (state.unavailable.has(action)) return false;
  return routes === null || routes === undefined || routes.has(ACTION_ROUTES[action]);
}

function schemaOf(token) {
  const schema = token.schema;
  return schema && typeof schema === "object" ? schema : null;
}

function actionsView(token, routes) {
  const card = (action, description, ...body) => {
    const ok = available(action, routes);
    return h(
      "section",
      { class: `action${ok ? "" : " unavailable"}`, "aria-labelledby": `a-${action}` },
      h("h3", { id: `a-${action}` }, ACTION_NAMES[action]),
      h("p", { class: "help" }, description),
      ok ? body : h("p", { class: "notice info" }, "Not available on this server yet."),
    );
  };
  const schema = schemaOf(token);
  const unknownKeywords = schema ? [...unchecked(schema)] : [];
  const editor = h("textarea", { id: "complete-data", name: "data", rows: "7", spellcheck: "false", autocomplete: "off", "aria-describedby": "complete-help complete-error", placeholder: '{"approved": true}' });
  const error = h("p", { class: "form-error", id: "complete-error", role: "alert" });
  const complete = card(
    "complete",
    "Resume whatever waits on this token with this output.",
    h(
      "form",
      { class: "stack", onsubmit: (event) => submitComplete(event, token, editor, error), novalidate: true },
      h("label", { for: "complete-data" }, "Output (JSON)"),
      editor,
      h("p", { class: "help", id: "complete-help" }, "Any JSON value; leave empty to complete with no output. ", schema ? (unknownKeywords.length ? `Checked against the token's schema (not checked here: ${unknownKeywords.join(", ")}; the server checks those).` : "Checked against the token's schema before sending.") : "Checked as JSON before sending."),
      error,
      h("div", { class: "row" }, h("button", { type: "button", class: "button ghost", onclick: () => formatJson(editor, error) }, "Format"), h("button", { type: "submit", class: "button primary" }, "Complete…")),
    ),
  );
  const reason = h("textarea", { id: "reject-reason", name: "reason", rows: "2", maxlength: "1000", placeholder: "Not approved: budget exceeded" });
  const reject = card(
    "reject",
    "Finish the token as an error; waiters see the reason.",
    h("form", { class: "stack", onsubmit: (event) => submitAction(event, token, "reject", reason.value.trim()) }, h("label", { for: "reject-reason" }, "Reason"), reason, h("div", { class: "row" }, h("button", { type: "submit", class: "button danger" }, "Reject…"))),
  );
  const timeout = card(
    "timeout",
    "Time the token out now; waiters get Waitpoint.TimedOut.",
    h("form", { class: "stack", onsubmit: (event) => submitAction(event, token, "timeout") }, h("div", { class: "row" }, h("button", { type: "submit", class: "button danger" }, "Force timeout…"))),
  );
  const extendInput = h("input", { id: "extend-timeout", name: "timeout", required: true, placeholder: "1h, 2d or 2026-12-01T09:00:00Z", autocomplete: "off", "aria-describedby": "extend-help extend-error" });
  const extendError = h("p", { class: "form-error", id: "extend-error", role: "alert" });
  const extend = card(
    "extend",
    "Give the token a later timeout.",
    h(
      "form",
      { class: "stack", novalidate: true, onsubmit: (event) => submitExtend(event, token, extendInput, extendError) },
      h("label", { for: "extend-timeout" }, "New timeout"),
      extendInput,
      h("p", { class: "help", id: "extend-help" }, "A duration from now (10m, 1h30m, 2w3d), an ISO 8601 date-time or epoch milliseconds; at most 365 days away."),
      extendError,
      h("div", { class: "row" }, h("button", { type: "submit", class: "button primary" }, "Extend…")),
    ),
  );
  return h("section", { class: "card actions", "aria-labelledby": "actions-heading" }, h("h2", { id: "actions-heading" }, "Actions"), h("div", { class: "action-grid" }, complete, reject, timeout, extend));
}

function formatJson(editor, error) {
  if (!editor.value.trim()) return;
  try {
    editor.value = JSON.stringify(JSON.parse(editor.value), null, 2);
    error.textContent = "";
    editor.removeAttribute("aria-invalid");
  } catch (failure) {
    showFieldError(editor, error, `Not valid JSON: ${describeJsonError(failure, editor.value)}`);
  }
}

function showFieldError(input, error, message) {
  error.textContent = message;
  input.setAttribute("aria-invalid", "true");
  input.focus();
}

function submitComplete(event, token, editor, error) {
  event.preventDefault();
  error.textContent = "";
  editor.removeAttribute("aria-invalid");
  const text = editor.value.trim();
  let data;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (failure) {
      return showFieldError(editor, error, `Not valid JSON: ${describeJsonError(failure, text)}. Nothing was sent.`);
    }
    const schema = schemaOf(token);
    const problems = schema ? validate(schema, data) : [];
    if (problems.length) return showFieldError(editor, error, `Does not match the token's schema: ${problems.join("; ")}. Nothing was sent.`);
  }
  runAction(token, "complete", {
    title: "Complete this token?",
    body: text ? "The token completes with this output. The first completion wins; this cannot be undone." : "The token completes with no output. This cannot be undone.",
    preview: text ? JSON.stringify(data, null, 2) : null,
    confirm: "Complete",
    call: () => state.api.complete(token.id, data, Boolean(text)),
  });
}

function submitAction(event, token, action, reason) {
  event.preventDefault();
  const reject = action === "reject";
  runAction(token, action, {
    title: reject ? "Reject this token?" : "Time this token out now?",
    body: reject
      ? `The token finishes as rejected${reason ? "" : " without a reason"}; whatever waits on it is told. This cannot be undone.`
      : "The token becomes TIMED_OUT now; whatever waits on it gets Waitpoint.TimedOut. This cannot be undone.",
    preview: reject && reason ? reason : null,
    confirm: reject ? "Reject" : "Force timeout",
    danger: true,
    call: () => (reject ? state.api.reject(token.id, reason) : state.api.forceTimeout(token.id)),
  });
}

function submitExtend(event, token, input, error) {
  event.preventDefault();
  error.textContent = "";
  input.removeAttribute("aria-invalid");
  const raw = input.value.trim();
  if (!raw) return showFieldError(input, error, "Enter a new timeout.");
  const durationOk = /^(\d+(w|d|hr|h|m|s))+$/.test(raw);
  const epoch = /^\d{10,}$/.test(raw);
  const date = durationOk || epoch ? null : new Date(raw);
  if (!durationOk && !epoch && (!date || Number.isNaN(date.getTime()))) {
    return showFieldError(input, error, "Not a duration (10m, 1h30m), an ISO 8601 date-time or epoch milliseconds.");
  }
  const timeout = epoch ? Number(raw) : raw;
  runAction(token, "extend", {
    title: "Extend this token?",
    body: `The token's timeout moves to ${durationOk ? `${raw} from now` : new Date(epoch ? Number(raw) : raw).toISOString()} (currently ${token.timeoutAt ?? "unknown"}).`,
    confirm: "Extend",
    call: () => state.api.extend(token.id, timeout),
  });
}

function confirmDialog({ title, body, preview, confirm, danger }) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-body").textContent = body;
  const pre = document.getElementById("confirm-preview");
  pre.textContent = preview ?? "";
  pre.hidden = !preview;
  const ok = document.getElementById("confirm-ok");
  ok.textContent = confirm;
  ok.className = `button ${danger ? "danger" : "primary"}`;
  dialog.returnValue = "";
  dialog.showModal();
  (danger ? document.getElementById("confirm-cancel") : ok).focus();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true }));
}

async function runAction(token, action, spec) {
  if (!(await confirmDialog(spec))) return announce("Cancelled; nothing was sent.");
  const before = displayStatus(token);
  try {
    await spec.call();
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 401) return signOut("Your key is no longer accepted (revoked?). Sign in again.");
    if (failure instanceof ApiError && failure.notAvailable) {
      state.unavailable.add(action);
      state.notice = { kind: "error", text: `${ACTION_NAMES[action]} is not available on this server yet (HTTP ${failure.status}). Nothing changed.` };
    } else {
      state.notice = { kind: "error", text: `${ACTION_NAMES[action]} failed: ${failure.message}` };
    }
    state.focus = "notice";
    return render();
  }
  let after = null;
  try {
    after = await state.api.retrieve(token.id);
  } catch {
    after = null;
  }
  const now = after ? displayStatus(after) : "unknown";
  let text;
  if (action === "extend") text = after ? `Extended: the token now times out at ${after.timeoutAt}.` : "Extended.";
  else if (now !== before) text = `${ACTION_NAMES[action]}: done. The token is now ${now}.`;
  else text = `The server accepted the request, but the token is still ${now}: another completion or the timeout may have won.`;
  state.notice = { kind: now === "unknown" ? "info" : "success", text };
  state.focus = "notice";
  announce(text);
  render();
}

// --- start ----------------------------------------------------------------------------------------------

document.getElementById("signout").addEventListener("click", () => signOut());
window.addEventListener("hashchange", () => render());
state.routes = Api.routes();
const stored = sessionStorage.getItem(KEY_STORAGE);
if (stored) signedIn(stored);
render();
