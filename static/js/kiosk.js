// A shared kiosk: code + PIN -> visit -> wipe everything and return to the start screen.
// The join token lives only in this page's memory and is revoked by the server at the end.
import { api } from "./api.js";
import { runClientVisit } from "./client-visit.js";
import { languagePicker } from "./client.js";
import { language, t } from "./i18n.js";

const RESET_AFTER_MS = 10000;
const IDLE_RESET_MS = 120000;

function restart() {
  // A fresh load leaves nothing of the previous visit in memory or history.
  location.replace("/kiosk");
}

// Coming back through the browser's back/forward cache must not show an old visit.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) restart();
});

async function start() {
  await languagePicker(document.getElementById("kiosk-language"), navigator.language, () => {}, {
    remember: false,
  });

  let idle = setTimeout(restart, IDLE_RESET_MS);
  document.addEventListener("input", () => {
    clearTimeout(idle);
    idle = setTimeout(restart, IDLE_RESET_MS);
  });

  document.getElementById("kiosk-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("kiosk-error");
    error.textContent = "";
    const code = document.getElementById("kiosk-code");
    const pin = document.getElementById("kiosk-pin");
    try {
      const { token } = await api("POST", "/api/kiosk/sign-in", { code: code.value, pin: pin.value });
      code.value = "";
      pin.value = "";
      clearTimeout(idle);
      await runClientVisit(document.getElementById("visit"), token, {
        language: language(),
        remember: false,
        endedText: "kiosk.reset",
        onEnded: () => setTimeout(restart, RESET_AFTER_MS),
      });
    } catch (failure) {
      error.textContent = failure.status === 401 ? t("kiosk.wrong") : failure.message;
      pin.value = "";
    }
  });
}

start();
