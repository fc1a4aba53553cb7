// The supervisor's page: the team's visits, one visit's record with playback beside its
// transcript, the review queue, and the team's metrics with a chart and a CSV export.
import { api, ApiError, setCsrfToken } from "./api.js";
import { renderStaffNav } from "./staff-nav.js";

const $ = (id) => document.getElementById(id);
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const SVG = "http://www.w3.org/2000/svg";

const STATUS = {
  scheduled: "Scheduled",
  in_progress: "In progress",
  completed: "Held",
  no_show: "No-show",
  cancelled: "Cancelled",
};
const FLAGS = {
  risk: "Possible risk",
  unsigned: "Note unsigned",
  no_show_repeat: "Repeated no-shows",
  short_visit: "Short visit",
  declined_consent: "Recording declined",
};
const ACTIONS = {
  "visit.view": "Opened the visit record",
  "visit.review": "Marked the visit reviewed",
  "recording.playback": "Played a recording",
  "recording.download": "Downloaded a recording",
  "booking.view": "Viewed the booking",
  "booking.create": "Booked the visit",
};
const FIGURES = {
  visits_held: { label: "Visits held", format: (v) => String(v) },
  no_show_rate: { label: "No-show rate", format: (v) => `${Math.round(v * 1000) / 10}%` },
  avg_duration_minutes: { label: "Average length", format: (v) => `${v} min` },
  avg_hours_to_signed_note: { label: "Hours from visit end to signed note", format: (v) => `${v} h` },
};

// The visit being shown: its player, transcript lines (by start time) and the line playing.
const shown = { media: null, offset: 0, segments: [], current: -1 };
let metrics = null;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

const when = (iso) =>
  iso ? new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "—";

function clock(seconds) {
  const whole = Math.max(0, Math.floor(Number(seconds) || 0));
  return `${String(Math.floor(whole / 60)).padStart(2, "0")}:${String(whole % 60).padStart(2, "0")}`;
}

function showError(error) {
  $("page-error").textContent = error?.message ?? String(error);
}

function params(form, skip = []) {
  const query = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (value && !skip.includes(name)) query.set(name, value);
  }
  query.set("time_zone", zone);
  return query;
}

function flagList(flags, reviewed) {
  if (!flags.length) return el("span", { class: "muted", text: reviewed ? "Reviewed" : "None" });
  const list = el("ul", { class: "flags" });
  for (const flag of flags) list.append(el("li", { class: `flag flag-${flag}`, text: FLAGS[flag] ?? flag }));
  if (reviewed) list.append(el("li", { class: "flag flag-reviewed", text: "Reviewed" }));
  return list;
}

// ---- Team visits -------------------------------------------------------------------------

async function loadVisits() {
  const rows = await api("GET", `/api/team/visits?${params($("visit-filter"))}`);
  $("visits-count").textContent = rows.length === 1 ? "1 visit" : `${rows.length} visits`;
  $("visits-table").tBodies[0].replaceChildren(
    ...rows.map((row) =>
      el(
        "tr",
        { "data-booking": row.booking_id },
        el("td", { text: when(row.start_at) }),
        el("td", { text: row.client_name }),
        el("td", { text: row.case_number }),
        el("td", { text: row.caseworker_name }),
        el("td", { text: STATUS[row.status] ?? row.status }),
        el("td", { text: row.held_minutes === null ? "—" : `${row.held_minutes} min` }),
        el("td", { text: row.note_status ?? "none" }),
        el("td", {}, flagList(row.flags, row.reviewed)),
        el(
          "td",
          {},
          el("a", {
            href: `#visit=${row.booking_id}`,
            text: "Open",
            "aria-label": `Open the visit with ${row.client_name}, ${when(row.start_at)}`,
          }),
        ),
      ),
    ),
  );
}

async function loadCaseworkers() {
  const staff = await api("GET", "/api/staff");
  $("f-caseworker").append(
    ...staff
      .filter((person) => person.role === "caseworker")
      .map((person) => el("option", { value: person.id, text: person.display_name })),
  );
}

// ---- One visit ---------------------------------------------------------------------------

function closeVisit() {
  shown.media?.pause();
  shown.media = null;
  $("visit").hidden = true;
}

async function openVisit(bookingId) {
  const visit = await api("GET", `/api/visits/${bookingId}`);
  const booking = visit.booking;
  $("visit").hidden = false;
  $("visit-title").textContent = `Visit with ${visit.client_name}, ${when(booking.start_at)}`;
  const recording = booking.recording_status.replace("_", " ");
  $("visit-summary").textContent =
    `Case ${visit.case_number} · caseworker ${visit.caseworker_name} · ` +
    `${STATUS[booking.status] ?? booking.status} · recording: ${recording}` +
    (booking.recording_note ? ` (${booking.recording_note})` : "");
  $("visit-signals").replaceChildren(
    ...visit.signals.map((signal) => el("li", { class: `flag-${signal.kind}`, text: signal.text })),
  );
  renderPlayer(visit);
  renderTranscript(visit.transcript);
  renderPeople(visit);
  renderNote(visit.note, visit.note_history);
  $("reviews-empty").hidden = visit.reviews.length > 0;
  $("reviews").replaceChildren(
    ...visit.reviews.map((review) =>
      el("li", { text: `${when(review.created_at)}, ${review.reviewer_name}: ${review.comment}` }),
    ),
  );
  $("audit").tBodies[0].replaceChildren(
    ...visit.audit.map((event) =>
      el(
        "tr",
        {},
        el("td", { text: when(event.at) }),
        el("td", { text: `${event.actor_name} (${event.actor_role || event.actor_kind})` }),
        el("td", { text: ACTIONS[event.action] ?? event.action }),
        el("td", { text: event.object_type }),
        el("td", { text: event.outcome }),
      ),
    ),
  );
  $("visit-title").focus();
}

function renderPlayer(visit) {
  const chosen = visit.recordings.find((r) => r.id === visit.playback_recording_id);
  $("player-none").hidden = Boolean(chosen);
  shown.media = null;
  shown.offset = 0;
  if (chosen) {
    const tag = chosen.media_type.startsWith("video/") ? "video" : "audio";
    // preload=none: merely opening the record does not count as watching it.
    const media = el(tag, {
      controls: true,
      preload: "none",
      src: chosen.url,
      id: "player",
      "aria-label": `Recording of the visit (${chosen.kind})`,
    });
    media.addEventListener("timeupdate", syncTranscript);
    media.addEventListener("seeked", syncTranscript);
    shown.media = media;
    shown.offset = chosen.offset_seconds || 0;
    $("player-box").replaceChildren(media);
  } else {
    $("player-box").replaceChildren();
  }
  $("recordings").tBodies[0].replaceChildren(
    ...visit.recordings.map((r) => {
      const who = r.participant_name ? `${r.participant_name} (${r.participant_role})` : "everyone";
      const length = r.duration_seconds === null ? "—" : clock(r.duration_seconds);
      const actions = el("td", {});
      if (r.status !== "deleted") {
        if (r.id !== visit.playback_recording_id) {
          actions.append(
            el("button", {
              type: "button",
              class: "secondary small",
              text: "Play this",
              onclick: () => {
                renderPlayer({ ...visit, playback_recording_id: r.id });
                shown.media?.play().catch(() => {});
              },
            }),
            " ",
          );
        }
        actions.append(el("a", { href: r.download_url, text: "Download", download: "" }));
      }
      return el(
        "tr",
        {},
        el("td", { text: `${r.kind}, ${who}` }),
        el("td", { text: length }),
        el("td", { text: r.status }),
        actions,
      );
    }),
  );
}

function renderTranscript(transcript) {
  shown.segments = [...(transcript?.segments ?? [])].sort((a, b) => a.start - b.start);
  shown.current = -1;
  $("transcript-status").textContent = !transcript
    ? "No transcript yet."
    : transcript.status === "done"
      ? `Transcribed by ${transcript.engine} (${transcript.model}).`
      : `Transcript ${transcript.status}.`;
  $("transcript").replaceChildren(
    ...shown.segments.map((segment, index) =>
      el(
        "li",
        {},
        el(
          "button",
          {
            type: "button",
            class: "line",
            "data-start": segment.start,
            onclick: () => seek(segment.start, index),
          },
          el("span", { class: "at", text: clock(segment.start) }),
          " ",
          el("strong", { text: `${segment.speaker_name} (${segment.speaker_role})` }),
          " ",
          el("span", { text: segment.text }),
        ),
      ),
    ),
  );
}

// Transcript times are on the visit's clock; a recording starts `offset` seconds into it.
function seek(visitSeconds, index) {
  if (!shown.media) return;
  shown.media.currentTime = Math.max(0, visitSeconds - shown.offset);
  shown.media.play().catch(() => {});
  if (index !== undefined) highlight(index);
}

function syncTranscript() {
  const now = shown.media.currentTime + shown.offset;
  const index = shown.segments.findIndex((s) => s.start <= now && now < s.end);
  highlight(index);
}

function highlight(index) {
  if (index === shown.current) return;
  const lines = $("transcript").children;
  lines[shown.current]?.classList.remove("current");
  lines[shown.current]?.firstElementChild.removeAttribute("aria-current");
  shown.current = index;
  const line = lines[index];
  if (!line) return;
  line.classList.add("current");
  line.firstElementChild.setAttribute("aria-current", "true");
  line.scrollIntoView({ block: "nearest" });
}

function renderPeople(visit) {
  $("participants").tBodies[0].replaceChildren(
    ...visit.participants.map((p) =>
      el(
        "tr",
        {},
        el("th", { scope: "row", text: p.name }),
        el("td", { text: p.role }),
        el("td", { text: p.consent ?? "no answer" }),
      ),
    ),
  );
  $("consents").tBodies[0].replaceChildren(
    ...visit.consents.map((c) =>
      el(
        "tr",
        {},
        el("td", { text: when(c.answered_at) }),
        el("td", { text: c.participant_name }),
        el("td", { text: c.participant_role }),
        el("td", { text: c.choice }),
        el("td", { text: c.notice_version }),
        el("td", { text: c.language }),
      ),
    ),
  );
}

function listSection(title, items, render) {
  if (!Array.isArray(items) || !items.length) return null;
  return el("div", {}, el("h4", { text: title }), el("ul", {}, ...items.map(render)));
}

function playFrom(at, label) {
  if (typeof at !== "number" || !shown.media) return null;
  return el("button", {
    type: "button",
    class: "secondary small",
    text: `Play from ${clock(at)}`,
    "aria-label": `Play from ${clock(at)}: ${label}`,
    onclick: () => seek(at),
  });
}

function renderNote(note, history) {
  const box = $("note");
  if (!note) {
    box.replaceChildren(el("p", { class: "muted", text: "No note yet." }));
  } else {
    const body = note.body ?? {};
    const status =
      note.status === "signed"
        ? `Signed by ${note.signed_by_name ?? "?"}, ${when(note.signed_at)}.`
        : `Draft, last changed ${when(note.updated_at)}.`;
    const parts = [
      el("p", { class: "note-status", text: status }),
      body.purpose ? el("p", {}, el("strong", { text: "Purpose: " }), body.purpose) : null,
      el("p", { class: "summary", text: body.summary || "(No summary written.)" }),
      listSection("Possible risks", body.risk_indicators, (r) =>
        el(
          "li",
          { class: `risk risk-${r.status}` },
          `${r.category} (${r.status}): “${r.line}”, ${r.speaker} `,
          playFrom(r.at, r.line),
        ),
      ),
      listSection("Key statements", body.key_statements, (s) =>
        el("li", {}, `${s.speaker}: “${s.text}” `, playFrom(s.at, s.text)),
      ),
      listSection("Action items", body.action_items, (a) =>
        el("li", {
          text: `${a.text}${a.owner ? `, ${a.owner}` : ""}${a.due ? `, due ${a.due}` : ""} (${a.status})`,
        }),
      ),
      Array.isArray(body.topics) && body.topics.length
        ? el("p", {}, el("strong", { text: "Topics: " }), body.topics.join(", "))
        : null,
      listSection("Addenda", note.addenda, (a) =>
        el("li", {
          text: `${when(a.signed_at ?? a.created_at)}, ${a.signed_by_name ?? "draft"}: ${
            a.body?.text ?? a.body?.summary ?? JSON.stringify(a.body)
          }`,
        }),
      ),
    ];
    box.replaceChildren(...parts.filter(Boolean));
  }
  $("note-history-empty").hidden = history.length > 0;
  $("note-history").replaceChildren(
    ...history.map((version) =>
      el("li", {
        text: Object.entries(version)
          .filter(([key, value]) => !/(^|_)id$/.test(key) && typeof value !== "object")
          .map(([key, value]) => `${key.replace(/_/g, " ")}: ${value}`)
          .join(" · "),
      }),
    ),
  );
}

// ---- Review queue ------------------------------------------------------------------------

async function loadQueue() {
  const queue = await api("GET", "/api/review-queue");
  const t = queue.thresholds;
  $("queue-thresholds").textContent =
    `A visit is raised when its note flags a possible risk, the note is unsigned ` +
    `${t.unsigned_days} days after the visit, it lasted under ${t.short_visit_minutes} minutes, ` +
    `someone declined recording, or the client missed ${t.no_show_repeat} visits in ` +
    `${t.lookback_days} days. Highest score first` +
    (queue.total > queue.items.length
      ? `; the first ${queue.items.length} of ${queue.total} are shown.`
      : ".");
  $("queue-empty").hidden = queue.items.length > 0;
  $("queue-list").replaceChildren(...queue.items.map(queueItem));
}

function queueItem(item) {
  const commentId = `comment-${item.booking_id}`;
  const status = el("p", { class: "error", role: "status" });
  const comment = el("textarea", { id: commentId, name: "comment", rows: 2, required: true });
  const form = el(
    "form",
    { class: "review-form" },
    el("label", { for: commentId, text: "Review comment" }),
    comment,
    el("button", { type: "submit", text: "Mark reviewed" }),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = "";
    try {
      await api("POST", `/api/review-queue/${item.booking_id}/reviewed`, {
        comment: comment.value,
      });
      await Promise.all([loadQueue(), loadVisits()]);
      $("queue-title").focus();
    } catch (error) {
      status.textContent = error.message;
    }
  });
  return el(
    "li",
    { "data-booking": item.booking_id },
    el(
      "h3",
      {},
      `${item.client_name}, ${when(item.start_at)} `,
      el("span", { class: "score", text: `score ${item.score}` }),
    ),
    el("p", {
      class: "muted",
      text: `Case ${item.case_number} · ${item.caseworker_name} · ${STATUS[item.status] ?? item.status}`,
    }),
    el("ul", { class: "reasons" }, ...item.reasons.map((r) => el("li", { class: `flag-${r.kind}`, text: r.text }))),
    el("p", {}, el("a", { href: `#visit=${item.booking_id}`, text: "Open the visit" })),
    form,
  );
}

// ---- Metrics -----------------------------------------------------------------------------

async function loadMetrics() {
  const query = params($("metrics-filter"), ["figure"]);
  metrics = await api("GET", `/api/team/metrics?${query}`);
  $("m-from").value = metrics.first_day;
  $("m-to").value = metrics.last_day;
  const shownPeriod = new URLSearchParams({
    from: metrics.first_day,
    to: metrics.last_day,
    time_zone: zone,
  });
  $("metrics-csv").href = `/api/team/metrics.csv?${shownPeriod}`;
  $("metrics-caption").textContent =
    `Figures per caseworker and for the team, ${metrics.first_day} to ${metrics.last_day}`;
  const cell = (figure, value) => (value === null ? "—" : FIGURES[figure].format(value));
  const row = (r, head) =>
    el(
      "tr",
      head ? { class: "team-row" } : {},
      el("th", { scope: "row", text: r.caseworker }),
      el("td", { text: String(r.visits_held) }),
      el("td", { text: String(r.no_shows) }),
      el("td", { text: cell("no_show_rate", r.no_show_rate) }),
      el("td", { text: cell("avg_duration_minutes", r.avg_duration_minutes) }),
      el("td", { text: String(r.notes_signed) }),
      el("td", { text: cell("avg_hours_to_signed_note", r.avg_hours_to_signed_note) }),
    );
  $("metrics-table").tBodies[0].replaceChildren(
    ...metrics.caseworkers.map((r) => row(r, false)),
    row(metrics.team, true),
  );
  drawChart();
}

function svg(tag, attrs = {}, text = "") {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text) node.textContent = text;
  return node;
}

// Horizontal bars, one per caseworker, scaled to the largest; the table above has the numbers.
function drawChart() {
  if (!metrics) return;
  const figure = $("m-figure").value;
  const { label, format } = FIGURES[figure];
  const rows = metrics.caseworkers;
  const width = 640;
  const barHeight = 24;
  const gap = 12;
  const labelWidth = 170;
  const valueWidth = 90;
  const height = Math.max(1, rows.length) * (barHeight + gap) + gap;
  const largest = Math.max(0, ...rows.map((r) => r[figure] ?? 0)) || 1;
  const title = `${label} per caseworker, ${metrics.first_day} to ${metrics.last_day}`;
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-labelledby": "chart-title",
    class: "bars",
  });
  chart.append(svg("title", { id: "chart-title" }, title));
  rows.forEach((r, i) => {
    const y = gap + i * (barHeight + gap);
    const value = r[figure];
    const length = value === null ? 0 : ((width - labelWidth - valueWidth) * value) / largest;
    chart.append(
      svg("text", { x: labelWidth - 8, y: y + barHeight * 0.7, "text-anchor": "end" }, r.caseworker),
      svg("rect", {
        x: labelWidth,
        y,
        width: Math.max(value ? 2 : 0, length),
        height: barHeight,
        class: "bar",
        "data-caseworker": r.caseworker,
        "data-value": value ?? "",
      }),
      svg(
        "text",
        { x: labelWidth + length + 6, y: y + barHeight * 0.7, class: "value" },
        value === null ? "no data" : format(value),
      ),
    );
  });
  $("chart").replaceChildren(chart);
  const team = metrics.team[figure];
  $("chart-caption").textContent = `${title}. Team: ${team === null ? "no data" : format(team)}.`;
}

// ---- Start -------------------------------------------------------------------------------

function route() {
  const match = location.hash.match(/^#visit=([0-9a-f-]{36})$/);
  if (match) openVisit(match[1]).catch(showError);
  else closeVisit();
}

async function start() {
  let me;
  try {
    me = await api("GET", "/api/session");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      location.replace(`/?next=${encodeURIComponent("/supervisor" + location.hash)}`);
      return;
    }
    throw error;
  }
  setCsrfToken(me.csrf_token);
  renderStaffNav($("staff-nav"), me.user.role);
  $("who").textContent = `Signed in as ${me.user.display_name} (${me.user.role})`;
  if (me.user.role !== "supervisor") {
    for (const id of ["visits", "queue", "metrics"]) $(id).hidden = true;
    showError("This page is for supervisors: it shows a team's visits, reviews and metrics.");
    return;
  }
  $("visit-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    loadVisits().catch(showError);
  });
  $("metrics-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    loadMetrics().catch(showError);
  });
  $("m-figure").addEventListener("change", drawChart);
  window.addEventListener("hashchange", route);
  await Promise.all([loadCaseworkers(), loadVisits(), loadQueue(), loadMetrics()]);
  route();
}

start().catch(showError);
