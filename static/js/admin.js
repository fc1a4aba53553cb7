// Administration: teams, staff accounts, roles, switching accounts off and password resets.
// A new or reset password is made here, shown once, and never stored in the page.
import { api } from "./api.js";
import { attempt, el, staffPage } from "./staff.js";

const status = document.getElementById("status");
const ROLES = ["caseworker", "supervisor", "admin"];
let teams = [];

function temporaryPassword() {
  const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

function showOnce(message) {
  const box = document.getElementById("one-time");
  box.textContent = message;
  box.hidden = false;
}

function teamOptions(selected) {
  return [el("option", { value: "", textContent: "(none)" }),
    ...teams.map((t) => el("option", { value: t.id, textContent: t.name, selected: t.id === selected }))];
}

function staffRow(user) {
  const role = el("select", {}, ...ROLES.map((r) => el("option", { value: r, textContent: r, selected: r === user.role })));
  role.setAttribute("aria-label", `Role of ${user.display_name}`);
  const team = el("select", {}, ...teamOptions(user.team_id));
  team.setAttribute("aria-label", `Team of ${user.display_name}`);
  const save = el("button", { type: "button", className: "inline", textContent: "Save" });
  save.setAttribute("aria-label", `Save role and team of ${user.display_name}`);
  save.addEventListener("click", () =>
    change(user, { role: role.value, team_id: team.value || null }, "Saved."),
  );
  const active = el("button", {
    type: "button",
    className: "inline secondary",
    textContent: user.active ? "Switch off" : "Switch on",
  });
  active.setAttribute("aria-label", `${active.textContent} the account of ${user.display_name}`);
  active.addEventListener("click", () => change(user, { active: !user.active }, "Saved."));
  const reset = el("button", { type: "button", className: "inline secondary", textContent: "Reset password" });
  reset.setAttribute("aria-label", `Reset the password of ${user.display_name}`);
  reset.addEventListener("click", async () => {
    const password = temporaryPassword();
    if (await change(user, { password }, "Password reset.")) {
      showOnce(`Temporary password for ${user.username}: ${password} (shown once; ask them to change it).`);
    }
  });
  return el(
    "tr",
    {},
    el("td", {}, `${user.display_name} `, el("span", { className: "muted", textContent: `${user.username}${user.active ? "" : " (off)"}` })),
    el("td", {}, role),
    el("td", {}, team),
    el("td", {}, save, active, reset),
  );
}

async function change(user, body, done) {
  const changed = await attempt(status, () => api("PATCH", `/api/staff/${user.id}`, body), done);
  if (changed) await load();
  return changed;
}

async function load() {
  teams = (await attempt(status, () => api("GET", "/api/teams"))) || [];
  document.getElementById("teams").replaceChildren(...teams.map((t) => el("li", { textContent: t.name })));
  document.getElementById("new-team").replaceChildren(...teamOptions(null));
  const staff = (await attempt(status, () => api("GET", "/api/staff"))) || [];
  document.getElementById("staff").replaceChildren(...staff.map(staffRow));
}

document.getElementById("team-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = document.getElementById("team-name");
  if (await attempt(status, () => api("POST", "/api/teams", { name: name.value }), "Team added.")) {
    name.value = "";
    await load();
  }
});

document.getElementById("new-staff").addEventListener("submit", async (event) => {
  event.preventDefault();
  const password = temporaryPassword();
  const username = document.getElementById("new-username").value.trim();
  const created = await attempt(
    status,
    () =>
      api("POST", "/api/staff", {
        username,
        display_name: document.getElementById("new-name").value,
        role: document.getElementById("new-role").value,
        team_id: document.getElementById("new-team").value || null,
        password,
      }),
    "Account created.",
  );
  if (created) {
    showOnce(`Temporary password for ${username}: ${password} (shown once; ask them to change it).`);
    event.target.reset();
    await load();
  }
});

await staffPage(["admin"]);
await load();
