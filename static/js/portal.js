// /v/{token}: the client's own visit: time, join, calendar, move, cancel, send documents.
import { api } from "./api.js";
import { t } from "./i18n.js";
import { downloadIcs, formatWhen, languagePicker, renderSlots, say } from "./client.js";

const token = decodeURIComponent(location.pathname.split("/")[2]);
const $ = (id) => document.getElementById(id);
let visit = null;
let slots = null;
let notice = "";

function render() {
  if (!visit) return;
  $("when").textContent = formatWhen(visit.start_at, visit.time_zone);
  say($("with"), "visit.with", { name: visit.caseworker_name });
  say($("state"), `visit.status.${visit.status}`);
  const live = visit.status === "scheduled" || visit.status === "in_progress";
  $("join").hidden = !live;
  $("join").href = visit.join_path;
  $("changes").hidden = !visit.can_change;
  if (visit.can_change) {
    say($("change-until"), "visit.change_until", { when: formatWhen(visit.change_until, visit.time_zone) });
  } else {
    say($("change-until"), visit.status === "scheduled" && visit.your_role === "client" ? "visit.too_late" : "");
  }
  say($("status"), notice);
  $("documents").hidden = visit.document_requests.length === 0;
  say($("upload-help"), "visit.upload.help", { mb: visit.upload_max_mb });
  renderRequests();
  if (slots) renderSlots($("slots"), slots.slots, slots.time_zone, move);
}

function renderRequests() {
  const container = $("requests");
  container.replaceChildren();
  for (const request of visit.document_requests) {
    const card = document.createElement("div");
    card.className = "card";
    const title = document.createElement("p");
    title.className = "when";
    title.textContent = request.description;
    const id = `file-${request.id}`;
    const label = Object.assign(document.createElement("label"), { htmlFor: id, textContent: t("visit.upload") });
    const input = Object.assign(document.createElement("input"), {
      id, type: "file", accept: "application/pdf,image/jpeg,image/png,image/heic,.heic",
    });
    const count = document.createElement("p");
    count.textContent = t("visit.upload.count", { count: request.uploaded });
    const result = document.createElement("p");
    result.setAttribute("role", "status");
    input.addEventListener("change", () => upload(request, input, result));
    card.append(title, label, input, count, result);
    container.append(card);
  }
}

async function upload(request, input, result) {
  const file = input.files[0];
  if (!file) return;
  const response = await fetch(`/api/link/documents/${request.id}`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${token}`,
      "Content-Type": file.type || "application/octet-stream",
      "X-File-Name": encodeURIComponent(file.name),
    },
    body: file,
  });
  const keys = { 201: "visit.upload.sent", 413: "visit.upload.too_large", 415: "visit.upload.wrong_type", 401: "visit.invalid" };
  result.className = response.ok ? "ok" : "error";
  say(result, keys[response.status] || "common.error");
  input.value = "";
  if (response.ok) request.uploaded += 1;
}

async function load() {
  try {
    visit = await api("GET", "/api/link/visit", undefined, { token });
  } catch (error) {
    await languagePicker($("language"), navigator.language, render);
    say($("status"), error.status === 401 ? "visit.invalid" : "common.error");
    return;
  }
  await languagePicker($("language"), visit.language, render);
  $("visit").hidden = false;
  render();
}

async function move(slot) {
  say($("error"), "");
  try {
    visit = await api("POST", "/api/link/reschedule", { start_at: slot.start_at }, { token });
    notice = "visit.moved";
    slots = null;
    $("move").hidden = true;
    render();
    $("title").focus();
  } catch (error) {
    $("error").textContent = error.status === 409 ? error.message : t("common.error");
    slots = await api("GET", "/api/link/slots", undefined, { token });
    render();
  }
}

$("reschedule").addEventListener("click", async () => {
  slots = await api("GET", "/api/link/slots", undefined, { token });
  $("move").hidden = false;
  render();
  $("move-title").focus();
});
$("cancel").addEventListener("click", () => { $("confirm-cancel").hidden = false; $("confirm-text").focus(); });
$("cancel-no").addEventListener("click", () => { $("confirm-cancel").hidden = true; });
$("cancel-yes").addEventListener("click", async () => {
  try {
    visit = await api("POST", "/api/link/cancel", undefined, { token });
    notice = "visit.cancelled";
  } catch (error) {
    $("error").textContent = error.message;
  }
  $("confirm-cancel").hidden = true;
  $("move").hidden = true;
  render();
});
$("ics").addEventListener("click", async () => {
  const response = await fetch("/api/link/invite.ics", { headers: { Authorization: `Bearer ${token}` } });
  if (response.ok) downloadIcs(await response.text());
});

load();
