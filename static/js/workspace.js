// The caseworker's list of cases, searchable by client name or case number.
import { api } from "./api.js";
import { attempt, el, staffPage } from "./staff.js";

const status = document.getElementById("status");
const list = document.getElementById("cases");

// Only the latest search may fill the list: an earlier, slower answer (the initial
// unfiltered list) must not overwrite the results of a search typed after it.
let latest = 0;

async function search(q) {
  const mine = ++latest;
  const cases = await attempt(status, () =>
    api("GET", `/api/cases${q ? `?q=${encodeURIComponent(q)}` : ""}`),
  );
  if (!cases || mine !== latest) return;
  status.textContent = cases.length ? `${cases.length} case(s)` : "No cases found.";
  list.replaceChildren(
    ...cases.map((c) =>
      el(
        "li",
        {},
        el("a", { href: `/cases/${c.id}`, textContent: `${c.case_number} — ${c.title || "Case"}` }),
        el("span", { className: "muted", textContent: ` ${c.status}` }),
      ),
    ),
  );
}

await staffPage(["caseworker", "supervisor"]);
document.getElementById("search").addEventListener("submit", (event) => {
  event.preventDefault();
  search(document.getElementById("q").value.trim());
});
// A search submitted before this script ran arrives as ?q= (the form's plain GET).
const initial = new URLSearchParams(location.search).get("q") || "";
if (initial) document.getElementById("q").value = initial;
search(initial.trim());
