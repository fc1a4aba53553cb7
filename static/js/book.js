// /book/{token}: pick a free slot, give a name (and maybe a phone), get the visit link.
import { ApiError } from "./api.js";
import { t } from "./i18n.js";
import { downloadIcs, formatWhen, languagePicker, renderSlots, say } from "./client.js";

const token = decodeURIComponent(location.pathname.split("/").pop());
const headers = { "X-Booking-Token": token };
const $ = (id) => document.getElementById(id);
const PAGE = 24;
let offer = null;
let shown = PAGE;
let chosen = null;
let booked = null;

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { ...headers, Accept: "application/json", ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function render() {
  if (!offer) return;
  say($("with"), "book.with", { name: offer.caseworker_name });
  say($("zone"), "book.zone", { zone: offer.time_zone });
  const slots = offer.slots.slots;
  say($("status"), slots.length ? "" : "book.none");
  renderSlots($("slots"), slots.slice(0, shown), offer.time_zone, pick);
  $("more").hidden = shown >= slots.length;
  if (chosen) say($("chosen"), "book.chosen", { when: formatWhen(chosen.start_at, offer.time_zone) });
  if (booked) $("done-when").textContent = formatWhen(booked.start_at, booked.time_zone);
}

function pick(slot) {
  chosen = slot;
  $("details").hidden = false;
  render();
  $("chosen").focus();
}

async function load() {
  try {
    offer = await call("GET", "/api/book");
  } catch (error) {
    await languagePicker($("language"), navigator.language, render);
    say($("status"), error.status === 401 || error.status === 410 ? "book.invalid" : "common.error");
    return;
  }
  await languagePicker($("language"), offer.language || navigator.language, render);
  $("name-field").hidden = !offer.needs_name;
  $("choose").hidden = false;
  render();
}

$("more").addEventListener("click", () => { shown += PAGE; render(); });
$("back").addEventListener("click", () => { $("details").hidden = true; chosen = null; });

$("details").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("name").value.trim();
  const phone = $("phone").value.trim();
  if (offer.needs_name && !name) { say($("error"), "book.name.missing"); $("name").focus(); return; }
  say($("error"), "");
  try {
    booked = await call("POST", "/api/book", {
      start_at: chosen.start_at,
      ...(offer.needs_name ? { full_name: name } : {}),
      ...(phone ? { phone } : {}),
      language: document.documentElement.lang,
    });
  } catch (error) {
    if (error.status === 409) {
      say($("error"), "book.taken");
      offer = await call("GET", "/api/book");
      render();
    } else {
      $("error").textContent = error.status === 400 ? error.message : t("common.error");
    }
    return;
  }
  $("choose").hidden = true;
  $("details").hidden = true;
  $("done").hidden = false;
  $("visit-link").href = new URL(booked.visit_url).pathname;
  render();
  $("done-title").focus();
});

$("ics").addEventListener("click", () => downloadIcs(booked.ics));

load();
