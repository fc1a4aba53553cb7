import { api, ApiError, setCsrfToken } from "./api.js";
import { HOME } from "./staff-nav.js";

const signedOut = document.getElementById("signed-out");
const signedIn = document.getElementById("signed-in");

// After signing in, go back to the page that sent us here (only paths on this site).
const next = new URLSearchParams(location.search).get("next");
const safeNext = next && next.startsWith("/") && !next.startsWith("//") ? next : null;

function show(me) {
  if (me && (safeNext || HOME[me.user.role])) {
    location.replace(safeNext || HOME[me.user.role]);
    return;
  }
  signedOut.hidden = Boolean(me);
  signedIn.hidden = !me;
  if (me) {
    setCsrfToken(me.csrf_token);
    document.getElementById("who").textContent = me.user.display_name;
    document.getElementById("role").textContent = me.user.role;
    document.getElementById("console-link").hidden = me.user.role === "admin";
    document.getElementById("supervisor-link").hidden = me.user.role !== "supervisor";
  }
}

async function load() {
  try {
    show(await api("GET", "/api/session"));
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) throw error;
    show(null);
    document.getElementById("username").focus();
  }
}

document.getElementById("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("sign-in-error");
  error.textContent = "";
  try {
    show(
      await api("POST", "/api/session", {
        username: document.getElementById("username").value,
        password: document.getElementById("password").value,
      }),
    );
  } catch (failure) {
    error.textContent = failure.message;
  }
});

document.getElementById("sign-out").addEventListener("click", async () => {
  await api("DELETE", "/api/session");
  setCsrfToken("");
  show(null);
});

load();
