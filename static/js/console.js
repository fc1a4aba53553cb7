// The caseworker's console: today's visits, starting a visit now, the lobby, admitting, and
// the visit itself (mute, camera, recording state, ending it).
import { api, ApiError, setCsrfToken } from "./api.js";
import { attachRemote, labelRemotes } from "./client-visit.js";
import { renderStaffNav } from "./staff-nav.js";
import { getLocalMedia, VisitConnection } from "./visit-connection.js";

const POLL_MS = 5000;
const $ = (id) => document.getElementById(id);
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const OPENABLE = new Set(["scheduled", "in_progress", "no_show"]);
const RECORDING_TEXT = {
  waiting: "Not recording yet",
  recording: "Recording",
  paused: "Recording paused: waiting for everyone's answer",
  declined: "Not recorded",
};
const ENDED_TEXT = {
  ended_by_staff: "The visit has ended.",
  everyone_left: "Everyone left; the visit has ended.",
  server_shutdown: "The server stopped; the visit has ended.",
};

let visit = null;
let stream = null;
let media = null; // the camera/microphone request of the open visit (a promise)
let openBooking = null;
let todayShown = "";
let cases = [];

const time = (iso) =>
  new Date(iso).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });

function status(text) {
  $("console-status").textContent = text;
}

function showError(error) {
  if (error instanceof ApiError && error.status === 401) {
    location.replace("/?next=/console");
    return;
  }
  $("console-error").textContent = error.message;
}

function button(text, onClick, { label, className } = {}) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = text;
  if (label) element.setAttribute("aria-label", label);
  if (className) element.className = className;
  element.addEventListener("click", onClick);
  return element;
}

// -- today's visits --------------------------------------------------------------------

async function loadToday() {
  const visits = await api("GET", `/api/visits/today?time_zone=${encodeURIComponent(zone)}`);
  // Re-render only on change, so keyboard focus is not lost every few seconds.
  const shown = JSON.stringify([visits, openBooking]);
  if (shown === todayShown) return;
  todayShown = shown;
  $("today-empty").hidden = visits.length > 0;
  $("today-list").replaceChildren(...visits.map(todayItem));
}

function todayItem(v) {
  const item = document.createElement("li");
  item.dataset.bookingId = v.booking_id;
  const label = document.createElement("span");
  const kind = v.kind === "on_demand" ? " · started now" : "";
  label.textContent = `${time(v.start_at)}–${time(v.end_at)} · ${v.client_name} · ${v.case_number} · ${v.status.replace("_", " ")}${kind}`;
  item.append(label);
  if (v.waiting) {
    const waiting = document.createElement("span");
    waiting.className = "waiting";
    waiting.textContent = `${v.waiting} waiting`;
    item.append(waiting);
  }
  if (openBooking === v.booking_id) {
    const open = document.createElement("strong");
    open.textContent = "Open above";
    item.append(open);
  } else if (OPENABLE.has(v.status)) {
    const open = button("Open visit", () => openVisit(v).catch(showError), {
      label: `Open the visit with ${v.client_name} at ${time(v.start_at)}`,
    });
    // One visit at a time: end (or leave) the open one first.
    open.disabled = openBooking !== null;
    item.append(open);
  }
  return item;
}

// -- starting a visit now --------------------------------------------------------------

async function loadCases() {
  cases = (await api("GET", "/api/cases")).filter((c) => c.status === "open");
  $("now-case").replaceChildren(
    ...cases.map((c) => new Option(c.title ? `${c.case_number} · ${c.title}` : c.case_number, c.id)),
  );
  $("now").hidden = cases.length === 0;
  if (cases.length) await loadClients();
}

async function loadClients() {
  const detail = await api("GET", `/api/cases/${$("now-case").value}`);
  $("now-client").replaceChildren(...detail.clients.map((c) => new Option(c.full_name, c.id)));
}

async function startNow(event) {
  event.preventDefault();
  $("console-error").textContent = "";
  const start = $("now-start");
  start.disabled = true;
  try {
    const client = $("now-client").selectedOptions[0];
    if (!client) throw new Error("Choose the client this visit is with.");
    const started = await api("POST", `/api/cases/${$("now-case").value}/visits-now`, {
      client_id: client.value,
      purpose: $("now-purpose").value.trim(),
    });
    $("now-link").value = `${started.client_link.url}/join`;
    $("now-link-box").hidden = false;
    $("now-purpose").value = "";
    status(`Visit with ${client.text} started. Send the client the link.`);
    const booking = started.booking;
    await loadToday();
    if (openBooking === null) {
      await openVisit({ booking_id: booking.id, client_name: client.text, start_at: booking.start_at });
    }
  } finally {
    start.disabled = false;
  }
}

async function copyLink() {
  const field = $("now-link");
  try {
    await navigator.clipboard.writeText(field.value);
  } catch {
    // No clipboard API (a plain-http address): select the text for Ctrl+C instead.
    field.select();
    document.execCommand("copy");
  }
  status("Link copied.");
}

// -- the visit -------------------------------------------------------------------------

async function openVisit(booking) {
  openBooking = booking.booking_id;
  $("console-error").textContent = "";
  status("");
  $("room").hidden = false;
  $("room-title").textContent = `Visit with ${booking.client_name} at ${time(booking.start_at)}`;
  $("room-title").focus();
  $("consent-box").hidden = false;
  $("remotes").replaceChildren();
  $("kiosk-code-text").textContent = "";
  renderRecording(null, "");
  resetToggles();
  visit = new VisitConnection({ booking_id: booking.booking_id });
  visit.addEventListener("participants", renderParticipants);
  visit.addEventListener("recording", (event) => renderRecording(event.detail.state, event.detail.note));
  visit.addEventListener("remote-track", (event) => attachRemote($("room"), visit, event.detail));
  visit.addEventListener("error", (event) => {
    $("console-error").textContent = event.detail.message;
  });
  visit.addEventListener("ended", (event) => closeRoom(ENDED_TEXT[event.detail.reason]));
  visit.addEventListener("closed", () => closeRoom("The connection to the visit closed."));
  loadToday().catch(showError);
  const current = visit;
  media = getLocalMedia().then(
    (got) => {
      if (visit !== current) {
        for (const track of got.getTracks()) track.stop();
        return null;
      }
      stream = got;
      $("self-view").srcObject = got;
      $("toggle-camera").hidden = got.getVideoTracks().length === 0;
      return got;
    },
    (error) => {
      $("console-error").textContent = `Camera and microphone: ${error.message}`;
      return null;
    },
  );
  await visit.open();
}

function renderRecording(state, note) {
  const badge = $("room-recording");
  badge.hidden = !state;
  badge.dataset.state = state ?? "";
  badge.textContent = state ? RECORDING_TEXT[state] : "";
  $("room-recording-note").textContent = note ?? "";
}

function renderParticipants() {
  const waiting = visit.participants.filter((p) => !p.admitted);
  $("lobby-empty").hidden = waiting.length > 0;
  $("lobby-list").replaceChildren(
    ...waiting.map((p) => {
      const item = document.createElement("li");
      const consent = p.consent
        ? `recording ${p.consent}`
        : "has not answered the recording notice yet";
      item.append(`${p.name} (${p.role}) — ${consent}`);
      item.append(button(`Admit ${p.name}`, () => visit.admit(p.participant_id)));
      return item;
    }),
  );
  const present = visit.participants.filter((p) => p.admitted);
  $("in-visit-list").replaceChildren(
    ...present.map((p) => {
      const item = document.createElement("li");
      const extra = [p.audio ? null : "no sound", p.video ? null : "no video"]
        .filter(Boolean)
        .join(", ");
      item.textContent = `${p.name} (${p.role})${extra ? ` — ${extra}` : ""}`;
      return item;
    }),
  );
  labelRemotes($("room"), visit);
}

async function answer(choice) {
  const current = visit;
  current.consent(choice, "en");
  $("consent-box").hidden = true;
  // Offer only once the camera and microphone answered (or were refused).
  const local = (await media) ?? new MediaStream();
  if (visit !== current) return;
  await current.connectMedia(local, { audioOnly: local.getVideoTracks().length === 0 });
}

function closeRoom(message) {
  if (!visit) return;
  visit.close();
  for (const track of stream?.getTracks() ?? []) track.stop();
  visit = null;
  stream = null;
  media = null;
  openBooking = null;
  $("room").hidden = true;
  $("self-view").srcObject = null;
  $("kiosk-code-text").textContent = "";
  status(message ?? "The visit has ended.");
  loadToday().catch(showError);
}

function resetToggles() {
  for (const [id, text] of [["toggle-mic", "Mute"], ["toggle-camera", "Turn camera off"]]) {
    $(id).setAttribute("aria-pressed", "false");
    $(id).textContent = text;
  }
}

function toggle(button, kind) {
  if (!stream || !visit) return;
  const tracks = kind === "audio" ? stream.getAudioTracks() : stream.getVideoTracks();
  const off = button.getAttribute("aria-pressed") !== "true";
  for (const track of tracks) track.enabled = !off;
  button.setAttribute("aria-pressed", String(off));
  button.textContent =
    kind === "audio" ? (off ? "Unmute" : "Mute") : off ? "Turn camera on" : "Turn camera off";
  visit.setMedia(
    stream.getAudioTracks().some((t) => t.enabled),
    stream.getVideoTracks().some((t) => t.enabled),
  );
}

async function issueKioskCode() {
  const booking = openBooking;
  const code = await api("POST", `/api/bookings/${booking}/kiosk-code`);
  if (booking === openBooking) {
    $("kiosk-code-text").textContent = `Kiosk code ${code.code}, PIN ${code.pin}`;
  }
}

async function start() {
  try {
    const me = await api("GET", "/api/session");
    setCsrfToken(me.csrf_token);
    renderStaffNav($("staff-nav"), me.user.role);
    $("who").textContent = `${me.user.display_name} (${me.user.role})`;
  } catch (error) {
    showError(error);
    return;
  }
  $("staff-accept").addEventListener("click", () => answer("accepted").catch(showError));
  $("staff-decline").addEventListener("click", () => answer("declined").catch(showError));
  $("toggle-mic").addEventListener("click", (event) => toggle(event.currentTarget, "audio"));
  $("toggle-camera").addEventListener("click", (event) => toggle(event.currentTarget, "video"));
  $("end-visit").addEventListener("click", () => visit?.endForEveryone());
  $("kiosk-code").addEventListener("click", () => issueKioskCode().catch(showError));
  $("now-case").addEventListener("change", () => loadClients().catch(showError));
  $("now-form").addEventListener("submit", (event) => startNow(event).catch(showError));
  $("now-copy").addEventListener("click", copyLink);
  await Promise.all([loadToday(), loadCases()]).catch(showError);
  setInterval(() => loadToday().catch(showError), POLL_MS);
}

start();
