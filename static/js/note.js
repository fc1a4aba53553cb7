// Reviewing a visit's note: edit the draft, confirm or dismiss each suggestion, sign it, and
// once signed add addenda. A signed note shows read-only.
import { api } from "./api.js";
import { attempt, el, staffPage } from "./staff.js";

const bookingId = location.pathname.split("/")[2];
const status = document.getElementById("status");
let note = null;
let readOnly = true; // supervisors read notes; only the case's caseworker changes them

function clock(seconds) {
  const s = Math.floor(seconds || 0);
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

function suggestion(item, text) {
  const li = el("li", { id: `item-${item.id}` }, el("span", { className: "badge", textContent: item.status }), " ", text);
  if (note.status === "draft" && !readOnly) {
    for (const [decision, label] of [["confirm", "Confirm"], ["dismiss", "Dismiss"]]) {
      const button = el("button", {
        type: "button",
        className: `inline ${decision === "dismiss" ? "secondary" : ""}`,
        textContent: label,
      });
      button.setAttribute("aria-label", `${label}: ${text}`);
      button.addEventListener("click", async () => {
        const changed = await attempt(status, () =>
          api("POST", `/api/notes/${note.id}/suggestions/${item.id}`, { decision }),
        );
        if (changed) show(changed, `#item-${item.id} button`);
      });
      li.append(el("br"), button);
    }
  }
  return li;
}

function show(data, focus = null) {
  note = data;
  const body = data.body;
  const signed = data.status === "signed";
  const locked = signed || readOnly;
  const state = document.getElementById("state");
  state.textContent = signed ? `SIGNED by ${data.signed_by}` : "DRAFT";
  state.className = `badge ${data.status}`;
  const v = body.visit || {};
  document.getElementById("facts").textContent =
    `${v.date} ${v.start}–${v.end} (${v.time_zone}), ${v.duration_minutes} min, ${v.modality}. ` +
    `Participants: ${(body.participants || []).map((p) => `${p.name} (${p.role})`).join(", ")}.` +
    (body.interpreter ? ` Interpreter: ${body.interpreter}.` : "");
  document.getElementById("case-link").href = `/cases/${data.case_id}`;
  document.getElementById("export-html").href = `/api/notes/${data.id}/export?format=html`;
  document.getElementById("export-text").href = `/api/notes/${data.id}/export?format=text`;
  for (const id of ["purpose", "summary"]) {
    const input = document.getElementById(id);
    input.value = body[id] || "";
    input.readOnly = locked;
  }
  document.querySelector("#edit button").hidden = locked;
  document.getElementById("actions").replaceChildren(
    ...(body.action_items || []).map((a) =>
      suggestion(a, `${a.text} — owner: ${a.owner}${a.due ? `, due ${a.due}` : ""}`),
    ),
  );
  document.getElementById("risks").replaceChildren(
    ...(body.risk_indicators || []).map((r) =>
      suggestion(r, `${r.category}: “${r.line}” (${r.speaker} at ${clock(r.at)})`),
    ),
  );
  document.getElementById("statements").replaceChildren(
    ...(body.key_statements || []).map((s) => el("li", { textContent: `[${clock(s.at)}] ${s.speaker}: ${s.text}` })),
  );
  document.getElementById("topics").textContent = `Topics: ${(body.topics || []).join(", ") || "none"}`;
  document.getElementById("sign").hidden = locked;
  document.getElementById("addenda-section").hidden = !signed;
  document.getElementById("addendum").hidden = readOnly;
  document.getElementById("addenda").replaceChildren(
    ...data.addenda.map((a) => el("li", { textContent: `${a.text} — ${a.signed_by}, ${a.signed_at}` })),
  );
  if (focus) document.querySelector(focus)?.focus();
}

document.getElementById("edit").addEventListener("submit", async (event) => {
  event.preventDefault();
  const saved = await attempt(
    status,
    () =>
      api("PUT", `/api/notes/${note.id}`, {
        purpose: document.getElementById("purpose").value,
        summary: document.getElementById("summary").value,
      }),
    "Draft saved.",
  );
  if (saved) show(saved);
});

document.getElementById("sign").addEventListener("click", async () => {
  const signed = await attempt(status, () => api("POST", `/api/notes/${note.id}/sign`), "Signed.");
  if (signed) show(signed, "#state");
});

document.getElementById("addendum").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = document.getElementById("addendum-text");
  const saved = await attempt(
    status,
    () => api("POST", `/api/notes/${note.id}/addenda`, { text: text.value }),
    "Addendum added.",
  );
  if (saved) {
    text.value = "";
    show(saved);
  }
});

const me = await staffPage(["caseworker", "supervisor"]);
readOnly = me.user.role !== "caseworker";
const loaded = await attempt(status, () => api("GET", `/api/bookings/${bookingId}/note`));
if (loaded) show(loaded);
