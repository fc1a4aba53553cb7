// The caseworker's console: today's visits, the lobby, admitting, and the visit itself.
import { api, ApiError, setCsrfToken } from "./api.js";
import { attachRemote, labelRemotes } from "./client-visit.js";
import { getLocalMedia, VisitConnection } from "./visit-connection.js";

const POLL_MS = 5000;
const $ = (id) => document.getElementById(id);
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
let visit = null;
let stream = null;
let openBooking = null;

const time = (iso) =>
  new Date(iso).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });

async function loadToday() {
  const visits = await api("GET", `/api/visits/today?time_zone=${encodeURIComponent(zone)}`);
  $("today-empty").hidden = visits.length > 0;
  $("today-list").replaceChildren(
    ...visits.map((v) => {
      const item = document.createElement("li");
      const label = document.createElement("span");
      label.textContent = `${time(v.start_at)}–${time(v.end_at)} · ${v.client_name} · ${v.case_number} · ${v.status.replace("_", " ")}`;
      item.append(label);
      if (v.waiting) {
        const waiting = document.createElement("span");
        waiting.className = "waiting";
        waiting.textContent = `${v.waiting} waiting`;
        item.append(waiting);
      }
      if (v.status === "scheduled" || v.status === "in_progress") {
        const open = document.createElement("button");
        open.type = "button";
        open.textContent = openBooking === v.booking_id ? "Open now" : "Open visit";
        open.disabled = openBooking !== null;
        open.addEventListener("click", () => openVisit(v));
        item.append(open);
      }
      return item;
    }),
  );
}

function renderParticipants() {
  const waiting = visit.participants.filter((p) => !p.admitted);
  $("lobby-empty").hidden = waiting.length > 0;
  $("lobby-list").replaceChildren(
    ...waiting.map((p) => {
      const item = document.createElement("li");
      const consent = p.consent ? `recording ${p.consent}` : "has not answered the recording notice";
      item.append(`${p.name} (${p.role}) — ${consent}`);
      const admit = document.createElement("button");
      admit.type = "button";
      admit.textContent = `Admit ${p.name}`;
      admit.addEventListener("click", () => visit.admit(p.participant_id));
      item.append(admit);
      return item;
    }),
  );
  labelRemotes($("room"), visit);
}

async function openVisit(booking) {
  openBooking = booking.booking_id;
  $("room").hidden = false;
  $("room-title").textContent = `Visit with ${booking.client_name} at ${time(booking.start_at)}`;
  $("consent-box").hidden = false;
  $("remotes").replaceChildren();
  visit = new VisitConnection({ booking_id: booking.booking_id });
  visit.addEventListener("participants", renderParticipants);
  visit.addEventListener("recording", (event) => {
    const badge = $("room-recording");
    badge.dataset.state = event.detail.state;
    badge.textContent = {
      waiting: "Not recording yet",
      recording: "Recording",
      paused: "Recording paused: waiting for everyone's answer",
      declined: "Not recorded",
    }[event.detail.state];
    $("room-recording-note").textContent = event.detail.note ?? "";
  });
  visit.addEventListener("remote-track", (event) => attachRemote($("room"), visit, event.detail));
  visit.addEventListener("error", (event) => {
    $("console-error").textContent = event.detail.message;
  });
  visit.addEventListener("ended", closeRoom);
  visit.addEventListener("closed", closeRoom);
  try {
    await visit.open();
    stream = await getLocalMedia();
    $("self-view").srcObject = stream;
  } catch (error) {
    $("console-error").textContent = error.message;
  }
  loadToday();
}

function answer(choice) {
  visit.consent(choice, "en");
  $("consent-box").hidden = true;
  visit.connectMedia(stream, { audioOnly: stream.getVideoTracks().length === 0 });
}

function closeRoom() {
  if (!visit) return;
  visit.close();
  for (const track of stream?.getTracks() ?? []) track.stop();
  visit = null;
  stream = null;
  openBooking = null;
  $("room").hidden = true;
  $("kiosk-code-text").textContent = "";
  loadToday();
}

function toggle(button, kind) {
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

async function start() {
  try {
    const me = await api("GET", "/api/session");
    setCsrfToken(me.csrf_token);
    $("who").textContent = `${me.user.display_name} (${me.user.role})`;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      location.replace("/?next=/console");
      return;
    }
    throw error;
  }
  $("staff-accept").addEventListener("click", () => answer("accepted"));
  $("staff-decline").addEventListener("click", () => answer("declined"));
  $("toggle-mic").addEventListener("click", (event) => toggle(event.target, "audio"));
  $("toggle-camera").addEventListener("click", (event) => toggle(event.target, "video"));
  $("end-visit").addEventListener("click", () => visit?.endForEveryone());
  $("kiosk-code").addEventListener("click", async () => {
    const code = await api("POST", `/api/bookings/${openBooking}/kiosk-code`);
    $("kiosk-code-text").textContent = `Kiosk code ${code.code}, PIN ${code.pin}`;
  });
  await loadToday();
  setInterval(loadToday, POLL_MS);
}

start();
