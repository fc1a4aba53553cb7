// The navigation staff pages share: a link only to the pages the signed-in role may use.
// Add a page here and every staff page that renders this nav shows it to the right roles.
import { api } from "./api.js";

export const STAFF_PAGES = [
  { href: "/", label: "Home", roles: ["caseworker", "supervisor", "admin"] },
  { href: "/console", label: "Visit console", roles: ["caseworker", "supervisor"] },
  { href: "/supervisor", label: "Supervision", roles: ["supervisor"] },
];

export function renderStaffNav(nav, role, here = location.pathname) {
  const list = document.createElement("ul");
  for (const page of STAFF_PAGES.filter((p) => p.roles.includes(role))) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = page.href;
    link.textContent = page.label;
    if (page.href === here) link.setAttribute("aria-current", "page");
    item.append(link);
    list.append(item);
  }
  const out = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link-button";
  button.textContent = "Sign out";
  button.addEventListener("click", async () => {
    await api("DELETE", "/api/session");
    location.assign("/");
  });
  out.append(button);
  list.append(out);
  nav.replaceChildren(list);
}
