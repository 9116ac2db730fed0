// The search page: POST /search and render the hits. Text is inserted with textContent only, never as
// HTML, so a document can never inject markup or script (the server's CSP forbids inline script too).
"use strict";

const form = document.getElementById("search-form");
const input = document.getElementById("q");
const langSelect = document.getElementById("language");
const kSelect = document.getElementById("k");
const statusLine = document.getElementById("status");
const list = document.getElementById("results");
const about = document.getElementById("about");

// The API key, when the server requires one (babelir serve --api-key): read once from the address
// (/?key=KEY, then removed from the address bar and history) or asked for after a 401, and kept in this
// tab's sessionStorage only. The page and /health themselves need no key.
const KEY_ITEM = "babelir-api-key";
const params = new URLSearchParams(location.search);
if (params.has("key")) {
  sessionStorage.setItem(KEY_ITEM, params.get("key"));
  params.delete("key");
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + (rest ? `?${rest}` : "") + location.hash);
}

async function post(path, payload) {
  for (let attempt = 0; ; attempt++) {
    const key = sessionStorage.getItem(KEY_ITEM);
    const headers = { "Content-Type": "application/json" };
    if (key) headers["X-API-Key"] = key;
    const response = await fetch(path, { method: "POST", headers, body: JSON.stringify(payload) });
    if (response.status !== 401 || attempt > 0) return response;
    const typed = window.prompt("This server needs an API key:");
    if (!typed) return response;
    sessionStorage.setItem(KEY_ITEM, typed.trim());
  }
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function loadHealth() {
  try {
    const key = sessionStorage.getItem(KEY_ITEM);  // with it, a 503 says why (the reason names files)
    const response = await fetch("/health", key ? { headers: { "X-API-Key": key } } : {});
    const info = await response.json();
    if (!response.ok) {
      about.textContent = `server unavailable: ${info.reason || response.status}`;
      return;
    }
    for (const [code, count] of Object.entries(info.languages || {})) {
      if (!code) continue;
      const option = el("option", "", `${code} (${count})`);
      option.value = code;
      langSelect.appendChild(option);
    }
    const neutral = info.neutralization
      ? ` · language neutralization: ${info.neutralization.method} (${info.neutralization.languages.length} languages)`
      : " · no language neutralization";
    const hybrid = info.fusion ? ` · BM25 + dense (${info.fusion})` : "";
    about.textContent = `${info.documents} documents · model ${info.model} · ${info.index_type} index${neutral}${hybrid}`;
  } catch (err) {
    about.textContent = "server unreachable";
  }
}

function render(result) {
  list.replaceChildren();
  for (const hit of result.hits) {
    const item = el("li", "hit");
    item.dataset.language = hit.language;
    const head = el("div", "hit-head");
    head.appendChild(el("span", "lang", hit.language || "?"));
    head.appendChild(el("span", "score", hit.score.toFixed(3)));
    head.appendChild(el("span", "doc-id", hit.id));
    item.appendChild(head);
    if (hit.title) item.appendChild(el("div", "title", hit.title));
    const body = el("p", "text", hit.text);
    body.dir = "auto";
    if (hit.language) body.lang = hit.language;
    item.appendChild(body);
    list.appendChild(item);
  }
}

// What language neutralization did, in words (the server says; see babelir.index.QueryLanguage).
function describeLanguage(info) {
  if (!info || info.source === "none") return "";
  if (info.neutralized) {
    const how = info.source === "identified" ? "identified as" : "given as";
    return info.language ? ` · query ${how} ${info.language}, its language statistics removed` : " · language statistics removed";
  }
  return info.note ? ` · ${info.note}` : "";
}

// The search lives in the address (?q=&language=&k=): a search can be linked, reloaded, and the back
// button returns to the previous one.
function stateFromForm() {
  const state = new URLSearchParams();
  state.set("q", input.value.trim());
  if (langSelect.value) state.set("language", langSelect.value);
  if (kSelect.value !== "10") state.set("k", kSelect.value);
  return state;
}

function formFromState(state) {
  input.value = state.get("q") || "";
  const language = state.get("language") || "";
  if (language && ![...langSelect.options].some((o) => o.value === language)) {
    const option = el("option", "", language);  // before /health answers: keep the linked filter
    option.value = language;
    langSelect.appendChild(option);
  }
  langSelect.value = language;
  const k = state.get("k") || "10";
  if ([...kSelect.options].some((o) => o.value === k)) kSelect.value = k;
}

async function runSearch() {
  const query = input.value.trim();
  if (!query) {
    list.replaceChildren();
    statusLine.textContent = "";
    return;
  }
  const payload = { query, k: Number(kSelect.value) };
  if (langSelect.value) payload.language = langSelect.value;
  statusLine.textContent = "Searching…";
  statusLine.className = "";
  try {
    const response = await post("/search", payload);
    const data = await response.json();
    if (!response.ok) {
      throw new Error(typeof data.detail === "string" ? data.detail : `HTTP ${response.status}`);
    }
    const result = data.results[0];
    render(result);
    const spanned = new Set(result.hits.map((hit) => hit.language).filter(Boolean)).size;
    statusLine.textContent = result.hits.length
      ? `${result.hits.length} results in ${spanned} language${spanned === 1 ? "" : "s"}, ` +
        `${data.took_ms.toFixed(0)} ms${describeLanguage(result.query_language)}` +
        (result.fusion ? `; ranked by BM25 + dense (${result.fusion})` : "")
      : "No results.";
  } catch (err) {
    list.replaceChildren();
    statusLine.textContent = `Error: ${err.message}`;
    statusLine.className = "error";
  }
}

function search(event) {
  event.preventDefault();
  if (!input.value.trim()) return;
  const state = stateFromForm();
  if (state.toString() !== new URLSearchParams(location.search).toString()) {
    history.pushState(null, "", `${location.pathname}?${state}`);
  }
  runSearch();
}

window.addEventListener("popstate", () => {
  formFromState(new URLSearchParams(location.search));
  runSearch();
});

form.addEventListener("submit", search);
loadHealth().then(() => {
  const state = new URLSearchParams(location.search);
  if (state.get("q")) {
    formFromState(state);
    runSearch();
  }
});
