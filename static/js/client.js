// Shared by the client pages: the language picker and how a visit's time reads.
import { language, languages, setLanguage, t, translate } from "./i18n.js";

export function formatWhen(iso, timeZone) {
  return new Intl.DateTimeFormat(language(), {
    timeZone, weekday: "long", month: "long", day: "numeric", hour: "numeric", minute: "2-digit",
  }).format(new Date(iso));
}

export function formatDay(iso, timeZone) {
  return new Intl.DateTimeFormat(language(), {
    timeZone, weekday: "long", month: "long", day: "numeric",
  }).format(new Date(iso));
}

export function formatTime(iso, timeZone) {
  return new Intl.DateTimeFormat(language(), { timeZone, hour: "numeric", minute: "2-digit" })
    .format(new Date(iso));
}

// Fill the language <select> with every language we have, switch on change, and re-render
// with `render`. `remember` keeps the choice for next time (not on shared kiosks).
export async function languagePicker(select, preferred, render, { remember = true } = {}) {
  const stored = remember ? localStorage.getItem("vv.language") : null;
  await setLanguage(stored || preferred || navigator.language || "en");
  const known = await languages();
  select.replaceChildren(...known.map(({ code, name }) => new Option(name, code)));
  select.value = language();
  select.addEventListener("change", async () => {
    if (remember) localStorage.setItem("vv.language", select.value);
    await setLanguage(select.value);
    translate();
    render();
  });
  translate();
}

export function say(element, key, values) {
  element.textContent = key ? t(key, values) : "";
}

// Offer an .ics text as a download (a link cannot send the visit token itself).
export function downloadIcs(text) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/calendar" }));
  const link = Object.assign(document.createElement("a"), { href: url, download: "visit.ics" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// Slots grouped by day, as buttons; `onPick(slot)` when one is chosen.
export function renderSlots(container, slots, timeZone, onPick) {
  container.replaceChildren();
  const days = new Map();
  for (const slot of slots) {
    const day = formatDay(slot.start_at, timeZone);
    if (!days.has(day)) days.set(day, []);
    days.get(day).push(slot);
  }
  for (const [day, items] of days) {
    const section = document.createElement("section");
    section.className = "day";
    const heading = document.createElement("h3");
    heading.textContent = day;
    const grid = document.createElement("div");
    grid.className = "slots";
    for (const slot of items) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = formatTime(slot.start_at, timeZone);
      button.setAttribute("aria-pressed", "false");
      button.setAttribute("aria-label", formatWhen(slot.start_at, timeZone));
      button.addEventListener("click", () => {
        for (const other of container.querySelectorAll("button")) {
          other.setAttribute("aria-pressed", "false");
        }
        button.setAttribute("aria-pressed", "true");
        onPick(slot);
      });
      grid.append(button);
    }
    section.append(heading, grid);
    container.append(section);
  }
}
