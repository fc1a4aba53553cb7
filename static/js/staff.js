// What every staff page does first: make sure someone is signed in with a role that may use
// the page, keep the CSRF token for changes, and draw the navigation for that role.
import { api, ApiError, setCsrfToken } from "./api.js";
import { renderStaffNav } from "./staff-nav.js";

export async function staffPage(roles) {
  let me;
  try {
    me = await api("GET", "/api/session");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      location.replace(`/?next=${encodeURIComponent(location.pathname + location.search)}`);
      return new Promise(() => {});
    }
    throw error;
  }
  setCsrfToken(me.csrf_token);
  renderStaffNav(document.getElementById("staff-nav"), me.user.role);
  if (!roles.includes(me.user.role)) {
    document.getElementById("main").replaceChildren(
      Object.assign(document.createElement("p"), {
        className: "error",
        textContent: `This page is not for your role (${me.user.role}).`,
      }),
    );
    return new Promise(() => {});
  }
  return me;
}

// Dates and times in the given IANA zone, as staff read them.
export function when(iso, timeZone) {
  return new Intl.DateTimeFormat(undefined, {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone,
  }).format(new Date(iso));
}

export function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

// Run an action from a form or button and show its error (or success) in `status`.
export async function attempt(status, action, done = "") {
  status.textContent = "";
  status.classList.remove("error");
  try {
    const result = await action();
    status.textContent = done;
    return result;
  } catch (error) {
    status.textContent = error.message;
    status.classList.add("error");
    return undefined;
  }
}
