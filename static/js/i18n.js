// Client-facing text in the client's language: one JSON file per language in /static/i18n/.
// Elements carry data-i18n="key" (text), data-i18n-label="key" (aria-label) or
// data-i18n-placeholder="key"; translate(root) fills them in.
const cache = new Map();
let current = { language: "en", texts: {}, fallback: {} };
let known = null;

// The languages the server has texts for: [{code, name}], fetched once.
export function languages() {
  known ??= fetch("/api/languages").then((r) => (r.ok ? r.json() : [{ code: "en", name: "English" }]));
  return known;
}

async function load(language) {
  if (!cache.has(language)) {
    cache.set(
      language,
      fetch(`/static/i18n/${language}.json`).then((r) => (r.ok ? r.json() : null)),
    );
  }
  return cache.get(language);
}

export async function setLanguage(preferred) {
  const fallback = await load("en");
  const codes = new Set((await languages()).map(({ code }) => code));
  let language = "en";
  let texts = fallback;
  // "es-MX" falls back to "es"; only languages we have are asked for (no 404s).
  for (const candidate of [preferred, preferred?.split("-")[0]]) {
    const found = candidate && codes.has(candidate) ? await load(candidate) : null;
    if (found) {
      language = candidate;
      texts = found;
      break;
    }
  }
  current = { language, texts, fallback };
  document.documentElement.lang = language;
  return language;
}

export function language() {
  return current.language;
}

export function t(key, values = {}) {
  const template = current.texts[key] ?? current.fallback[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

export function translate(root = document) {
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of root.querySelectorAll("[data-i18n-label]")) {
    element.setAttribute("aria-label", t(element.dataset.i18nLabel));
  }
  for (const element of root.querySelectorAll("[data-i18n-placeholder]")) {
    element.setAttribute("placeholder", t(element.dataset.i18nPlaceholder));
  }
}
