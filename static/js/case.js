// A case: its clients, its timeline of visits (with recordings, transcript and note state),
// documents, the messages sent, and booking a visit from the caseworker's free slots.
import { api } from "./api.js";
import { attempt, el, staffPage, when } from "./staff.js";

const caseId = location.pathname.split("/")[2];
const status = document.getElementById("status");
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

function transcriptState(visit) {
  const state = el("span", { className: "muted", textContent: visit.transcript_status ? `Transcript ${visit.transcript_status}` : "No note yet" });
  if (["queued", "running", "failed"].includes(visit.transcript_status)) {
    // The job's progress, attempts and last error, as the transcription queue reports them.
    api("GET", `/api/bookings/${visit.booking.id}/transcript`).then((job) => {
      const percent = Math.round(job.progress * 100);
      state.textContent =
        job.status === "failed"
          ? `Transcription failed after ${job.attempts} attempt(s): ${job.error}`
          : `Transcribing: ${percent}% (attempt ${Math.max(job.attempts, 1)})${job.error ? `, retrying after: ${job.error}` : ""}`;
    }, () => {});
  }
  return state;
}

function noteLink(visit) {
  if (!visit.note) return transcriptState(visit);
  return el(
    "span",
    {},
    el("span", { className: `badge ${visit.note.status}`, textContent: visit.note.status.toUpperCase() }),
    " ",
    el("a", {
      href: `/visits/${visit.booking.id}/note`,
      textContent: visit.note.status === "draft" ? "Review and sign the note" : "Open the note",
    }),
    visit.note.addenda ? ` (${visit.note.addenda} addenda)` : "",
  );
}

async function loadTimeline() {
  const timeline = await attempt(status, () => api("GET", `/api/cases/${caseId}/timeline`));
  if (!timeline) return;
  document.getElementById("timeline").replaceChildren(
    ...timeline.map((visit) => {
      const b = visit.booking;
      const audio = visit.recordings.filter((r) => r.kind === "audio");
      return el(
        "li",
        { id: `visit-${b.id}` },
        el("strong", { textContent: when(b.start_at, b.time_zone) }),
        ` — ${visit.client_name}, ${b.purpose || "visit"} `,
        el("span", { className: "badge", textContent: b.status.replace("_", " ") }),
        el("br"),
        el("span", {
          className: "muted",
          textContent: audio.length
            ? `Recorded: ${audio.map((r) => `${r.participant_name} (${Math.round(r.duration_seconds || 0)} s)`).join(", ")}. `
            : b.recording_note || "Not recorded. ",
        }),
        el("br"),
        noteLink(visit),
      );
    }),
  );
}

async function loadDocuments() {
  const requests = (await attempt(status, () => api("GET", `/api/cases/${caseId}/documents`))) || [];
  document.getElementById("documents").replaceChildren(
    ...requests.map((r) =>
      el(
        "li",
        {},
        `${r.description}: `,
        ...(r.uploads.length
          ? r.uploads.map((u) => el("a", { href: `/api/documents/${u.id}`, textContent: `file (${u.media_type}) ` }))
          : [el("span", { className: "muted", textContent: "not uploaded yet" })]),
      ),
    ),
  );
}

async function loadMessages() {
  const messages = (await attempt(status, () => api("GET", `/api/cases/${caseId}/messages`))) || [];
  document.getElementById("messages").replaceChildren(
    ...messages.map((m) =>
      el("li", {
        textContent: `${m.kind} to ${m.audience} by ${m.channel}: ${m.status}${m.sent_at ? `, ${when(m.sent_at, zone)}` : ""}`,
      }),
    ),
  );
}

async function loadBooking(detail) {
  document.getElementById("client").replaceChildren(
    ...detail.clients.map((c) => el("option", { value: c.id, textContent: c.full_name })),
  );
  const slotSelect = document.getElementById("slot");
  try {
    const free = await api("GET", "/api/office-hours/slots");
    slotSelect.replaceChildren(
      ...free.slots.slice(0, 200).map((s) =>
        el("option", {
          value: JSON.stringify([s.start_at, s.end_at, free.time_zone]),
          textContent: when(s.start_at, free.time_zone),
        }),
      ),
    );
    if (!free.slots.length) slotSelect.append(el("option", { value: "", textContent: "No free slots" }));
  } catch (error) {
    slotSelect.replaceChildren(el("option", { value: "", textContent: "Set your office hours first" }));
  }
}

document.getElementById("book").addEventListener("submit", async (event) => {
  event.preventDefault();
  const choice = document.getElementById("slot").value;
  const bookStatus = document.getElementById("book-status");
  if (!choice) {
    bookStatus.textContent = "Choose a free slot first.";
    return;
  }
  const [start_at, end_at, time_zone] = JSON.parse(choice);
  const booked = await attempt(
    bookStatus,
    () =>
      api("POST", `/api/cases/${caseId}/bookings`, {
        client_id: document.getElementById("client").value,
        start_at,
        end_at,
        time_zone,
        purpose: document.getElementById("purpose").value,
      }),
    "Booked.",
  );
  if (booked) {
    const link = document.getElementById("join-url");
    link.href = booked.client_link.url;
    link.textContent = booked.client_link.url;
    document.getElementById("join-link").hidden = false;
    await Promise.all([loadTimeline(), loadBooking(detail)]);
  }
});

await staffPage(["caseworker", "supervisor"]);
const detail = await attempt(status, () => api("GET", `/api/cases/${caseId}`));
if (detail) {
  document.getElementById("title").textContent = `${detail.case_number} — ${detail.title || "Case"}`;
  document.title = `${detail.case_number} — Virtual Visits`;
  document.getElementById("clients").textContent =
    `Clients: ${detail.clients.map((c) => c.full_name).join(", ")}`;
  await Promise.all([loadTimeline(), loadDocuments(), loadMessages(), loadBooking(detail)]);
}
