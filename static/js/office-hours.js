// The office-hours editor: weekly blocks, slot length, buffer, daily cap and dates off, with
// a preview of the free slots of the next two weeks as clients will see them.
import { api, ApiError } from "./api.js";
import { attempt, el, staffPage } from "./staff.js";

const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const status = document.getElementById("status");
let rows = 0;
let current = {}; // the office hours as last loaded or saved (keeps fields not edited here)

function field(label, input) {
  const id = `f${(rows += 1)}`;
  input.id = id;
  return el("div", {}, el("label", { htmlFor: id, textContent: label }), input);
}

function removeButton(row, what) {
  const button = el("button", { type: "button", className: "secondary inline", textContent: `Remove ${what}` });
  button.addEventListener("click", () => row.remove());
  return button;
}

function addBlock(block = { weekday: 0, start_time: "09:00", end_time: "12:00" }) {
  const day = el("select", { className: "weekday" }, ...DAYS.map((d, i) => el("option", { value: i, textContent: d })));
  day.value = block.weekday;
  const row = el(
    "div",
    { className: "row block" },
    field("Day", day),
    field("From", el("input", { type: "time", className: "start", value: block.start_time.slice(0, 5), required: true })),
    field("To", el("input", { type: "time", className: "end", value: block.end_time.slice(0, 5), required: true })),
  );
  row.append(removeButton(row, "block"));
  document.getElementById("blocks").append(row);
}

function addOff(off = { first_day: "", last_day: "", reason: "" }) {
  const row = el(
    "div",
    { className: "row off" },
    field("First day", el("input", { type: "date", className: "first", value: off.first_day, required: true })),
    field("Last day", el("input", { type: "date", className: "last", value: off.last_day, required: true })),
    field("Reason", el("input", { className: "reason", value: off.reason, maxLength: 200 })),
  );
  row.append(removeButton(row, "dates off"));
  document.getElementById("dates-off").append(row);
}

function value(id) {
  return document.getElementById(id).value;
}

async function preview() {
  const box = document.getElementById("preview");
  let free;
  try {
    free = await api("GET", "/api/office-hours/slots");
  } catch (error) {
    box.replaceChildren(el("p", { className: "muted", textContent: "No office hours yet." }));
    return;
  }
  const until = Date.now() + 14 * 24 * 3600 * 1000;
  const day = new Intl.DateTimeFormat(undefined, { weekday: "long", month: "short", day: "numeric", timeZone: free.time_zone });
  const time = new Intl.DateTimeFormat(undefined, { timeStyle: "short", timeZone: free.time_zone });
  const byDay = new Map();
  for (const slot of free.slots) {
    const start = new Date(slot.start_at);
    if (start.getTime() > until) break;
    const key = day.format(start);
    byDay.set(key, [...(byDay.get(key) || []), time.format(start)]);
  }
  box.replaceChildren(
    byDay.size
      ? el("ul", { className: "cards", id: "preview-days" }, ...[...byDay].map(([d, times]) => el("li", {}, el("strong", { textContent: d }), `: ${times.join(", ")}`)))
      : el("p", { textContent: "No free slots in the next two weeks." }),
  );
}

async function load() {
  try {
    const hours = await api("GET", "/api/office-hours");
    document.getElementById("time_zone").value = hours.time_zone;
    document.getElementById("slot_minutes").value = hours.slot_minutes;
    document.getElementById("buffer_minutes").value = hours.buffer_minutes;
    document.getElementById("daily_cap").value = hours.daily_cap ?? "";
    hours.blocks.forEach(addBlock);
    hours.dates_off.forEach(addOff);
    current = hours;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
    document.getElementById("time_zone").value = Intl.DateTimeFormat().resolvedOptions().timeZone;
    addBlock();
  }
}

document.getElementById("add-block").addEventListener("click", () => addBlock());
document.getElementById("add-off").addEventListener("click", () => addOff());
document.getElementById("hours").addEventListener("submit", async (event) => {
  event.preventDefault();
  const previous = current;
  const body = {
    time_zone: value("time_zone"),
    slot_minutes: Number(value("slot_minutes")),
    buffer_minutes: Number(value("buffer_minutes")),
    daily_cap: value("daily_cap") ? Number(value("daily_cap")) : null,
    min_notice_minutes: previous.min_notice_minutes ?? 60,
    horizon_days: previous.horizon_days ?? 28,
    notify_email: previous.notify_email ?? null,
    blocks: [...document.querySelectorAll(".block")].map((row) => ({
      weekday: Number(row.querySelector(".weekday").value),
      start_time: row.querySelector(".start").value,
      end_time: row.querySelector(".end").value,
    })),
    dates_off: [...document.querySelectorAll(".off")].map((row) => ({
      first_day: row.querySelector(".first").value,
      last_day: row.querySelector(".last").value,
      reason: row.querySelector(".reason").value,
    })),
  };
  const saved = await attempt(status, () => api("PUT", "/api/office-hours", body), "Office hours saved.");
  if (saved) {
    current = saved;
    await preview();
  }
});

await staffPage(["caseworker"]);
await load();
await preview();
