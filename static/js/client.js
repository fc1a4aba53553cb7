// Shared by the client pages: the language picker and how a visit's time reads.
import { language, setLanguage, t, translate } from "./i18n.js";

export const LANGUAGES = ["en", "es"];

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

// Fill the language <select>, switch on change, and re-render with `render`.
export async function languagePicker(select, preferred, render) {
  await setLanguage(localStorage.getItem("vv.language") || preferred || "en");
  for (const code of LANGUAGES) {
    const option = document.createElement("option");
    option.value = code;
    option.textContent = (await (await fetch(`/static/i18n/${code}.json`)).json())["language.name"];
    select.append(option);
  }
  select.value = language();
  select.addEventListener("change", async () => {
    localStorage.setItem("vv.language", select.value);
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
