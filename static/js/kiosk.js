// A shared kiosk: code + PIN -> visit -> wipe everything and return to the start screen.
// The join token lives only in this page's memory (never in storage, the URL or history) and
// the server revokes it when the visit ends.
import { api } from "./api.js";
import { runClientVisit } from "./client-visit.js";
import { languagePicker } from "./client.js";
import { language, t } from "./i18n.js";

const RESET_AFTER_MS = 10000;
const IDLE_RESET_MS = 120000;
const SIX_DIGITS = /^[0-9]{6}$/;

// What the person at the kiosk is told for each refusal of the sign-in.
const SIGN_IN_ERRORS = {
  401: "kiosk.wrong",
  403: "kiosk.locked",
  410: "errors.visit_closed",
  422: "kiosk.format",
  429: "errors.too_many_attempts",
};

function restart() {
  // A fresh load leaves nothing of the previous visit in memory, and replace() leaves
  // nothing in history to go back to.
  location.replace("/kiosk");
}

// Coming back through the browser's back/forward cache must not show an old visit.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) restart();
});

async function start() {
  const $ = (id) => document.getElementById(id);
  await languagePicker($("kiosk-language"), navigator.language, () => {}, { remember: false });

  // A half-typed code is cleared if the person walks away from the start screen.
  let inVisit = false;
  let idle = setTimeout(restart, IDLE_RESET_MS);
  const stillHere = () => {
    clearTimeout(idle);
    if (!inVisit) idle = setTimeout(restart, IDLE_RESET_MS);
  };
  for (const type of ["input", "pointerdown", "keydown"]) document.addEventListener(type, stillHere);

  const error = $("kiosk-error");
  const say = (key) => {
    error.dataset.i18n = key;
    error.textContent = t(key);
  };

  $("kiosk-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = $("kiosk-code");
    const pin = $("kiosk-pin");
    error.textContent = "";
    delete error.dataset.i18n;
    if (!SIX_DIGITS.test(code.value.trim()) || !SIX_DIGITS.test(pin.value.trim())) {
      say("kiosk.format");
      (SIX_DIGITS.test(code.value.trim()) ? pin : code).focus();
      return;
    }
    const submit = event.submitter ?? $("kiosk-join");
    submit.disabled = true;
    let token;
    try {
      ({ token } = await api("POST", "/api/kiosk/sign-in", {
        code: code.value.trim(),
        pin: pin.value.trim(),
      }));
    } catch (failure) {
      say(SIGN_IN_ERRORS[failure.status] ?? "common.error");
      pin.value = "";
      pin.focus();
      submit.disabled = false;
      return;
    }
    code.value = "";
    pin.value = "";
    inVisit = true;
    clearTimeout(idle);
    await runClientVisit($("visit"), token, {
      language: language(),
      remember: false,
      endedText: "kiosk.reset",
      onEnded: () => setTimeout(restart, RESET_AFTER_MS),
    });
  });
}

start();
