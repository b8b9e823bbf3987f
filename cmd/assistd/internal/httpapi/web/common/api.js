// Shared helpers of the gateway's pages: the bearer token (kept in this
// tab's sessionStorage only), a fetch wrapper that turns the gateway's
// error bodies into readable messages, and fi/sv/en interface strings.

const TOKEN_KEY = "sote.token";
const LANG_KEY = "sote.lang";

export function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }
export function setToken(t) { sessionStorage.setItem(TOKEN_KEY, t.trim()); }
export function clearToken() { sessionStorage.removeItem(TOKEN_KEY); }

// uiLang is the interface language: the saved choice, else the browser's.
export function uiLang() {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved) return saved;
  const l = (navigator.language || "en").slice(0, 2);
  return ["fi", "sv", "en"].includes(l) ? l : "en";
}
export function setUILang(l) { localStorage.setItem(LANG_KEY, l); }

// COMMON are the strings every page's sign-in and language controls use;
// a page's own table may override them.
export const COMMON = {
  language: { fi: "Kieli", sv: "Språk", en: "Language" },
  token: { fi: "Käyttöavain", sv: "Åtkomstnyckel", en: "Access token" },
  signin: { fi: "Kirjaudu", sv: "Logga in", en: "Sign in" },
};

// t returns the string for key in the interface language (strings is
// {key: {fi, sv, en}}); English when a translation is missing.
export function t(strings, key) {
  const s = strings[key] || COMMON[key];
  if (!s) return key;
  return s[uiLang()] || s.en || key;
}

// localize fills every element with data-i18n="key" (text) and
// data-i18n-label="key" (aria-label, placeholder) from strings.
export function localize(root, strings) {
  root.querySelectorAll("[data-i18n]").forEach(el => { el.textContent = t(strings, el.dataset.i18n); });
  root.querySelectorAll("[data-i18n-placeholder]").forEach(el => { el.placeholder = t(strings, el.dataset.i18nPlaceholder); });
  document.documentElement.lang = uiLang();
}

// ApiError carries the gateway's machine-readable kind and its message.
export class ApiError extends Error {
  constructor(status, kind, message) { super(message); this.status = status; this.kind = kind; }
}

// api calls a gateway JSON API with the bearer token. body, when given,
// is sent as JSON. It returns the parsed JSON answer (or text for
// non-JSON answers) and throws ApiError for any non-2xx answer.
export async function api(path, { method = "GET", body, headers = {}, signal } = {}) {
  const h = { ...headers };
  const tk = token();
  if (tk) h["Authorization"] = "Bearer " + tk;
  let payload;
  if (body !== undefined) {
    h["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers: h, body: payload, signal });
  const ct = res.headers.get("Content-Type") || "";
  const data = ct.includes("json") ? await res.json().catch(() => null) : await res.text();
  if (!res.ok) {
    const e = (data && data.error) || {};
    const kind = e.kind || e.type || "error";
    const msg = e.message || (typeof data === "string" && data) || res.statusText;
    throw new ApiError(res.status, kind, msg);
  }
  return data;
}

// wsURL is the same-origin WebSocket URL of path.
export function wsURL(path) {
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
}

// el creates an element with attributes and children (strings become text
// nodes: never innerHTML with data).
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// signIn wires a token form (#token-form with #token input) so the page's
// start(who) runs once the token is known to be valid (GET /v1/whoami).
export function signIn(start, onError) {
  const form = document.getElementById("token-form");
  const tryStart = async () => {
    try {
      const who = await api("/v1/whoami");
      form.classList.add("hidden");
      await start(who);
    } catch (e) {
      form.classList.remove("hidden");
      if (token() && onError) onError(e);
    }
  };
  form.addEventListener("submit", ev => {
    ev.preventDefault();
    setToken(document.getElementById("token").value);
    tryStart();
  });
  if (token()) tryStart(); else form.classList.remove("hidden");
}
