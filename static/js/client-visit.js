// The client's (or guest's) side of a visit, shared by the join page and the kiosk:
// device check -> recording notice -> lobby -> call -> ended.
import { languagePicker } from "./client.js";
import { language, t } from "./i18n.js";
import { getLocalMedia, levelMeter, VisitConnection } from "./visit-connection.js";

const STEPS = ["check", "consent", "lobby", "call", "ended"];

export async function runClientVisit(
  root,
  token,
  { onEnded = () => {}, endedText, language: chosen, remember = true } = {},
) {
  root.innerHTML = await (await fetch("/static/parts/client-visit.html")).text();
  const $ = (id) => root.querySelector(`#${id}`);
  const show = (step) => {
    for (const name of STEPS) $(`step-${name}`).hidden = name !== step;
    const heading = $(`step-${step}`).querySelector("h1");
    heading?.setAttribute("tabindex", "-1");
    heading?.focus();
  };
  const fail = (message) => {
    $("visit-error").textContent = message;
  };

  const visit = new VisitConnection({ token });
  let stream = null;
  let meter = null;
  let audioOnly = false;
  let admitted = false;
  let consented = false;
  let connected = false;
  let state = { recording: null };

  function renderTexts() {
    const name = visit.welcome?.booking.caseworker_name ?? "";
    $("consent-notice").textContent = t("consent.notice", { caseworker: name });
    $("lobby-text").textContent = t("lobby.text", { caseworker: name });
    if (endedText) $("ended-text").textContent = t(endedText);
    renderRecording();
  }

  function renderRecording() {
    const badge = $("recording-badge");
    badge.hidden = !state.recording || state.recording === "waiting";
    badge.textContent = state.recording ? t(`recording.${state.recording}`) : "";
    badge.dataset.state = state.recording ?? "";
  }

  function ended() {
    visit.close();
    for (const track of stream?.getTracks() ?? []) track.stop();
    meter?.close();
    show("ended");
    onEnded();
  }

  async function maybeConnect() {
    if (!admitted || !consented || connected) return;
    connected = true;
    show("call");
    $("self-view").srcObject = stream;
    await visit.connectMedia(stream, { audioOnly });
  }

  visit.addEventListener("error", (event) => fail(event.detail.message));
  visit.addEventListener("admitted", () => {
    admitted = true;
    maybeConnect();
  });
  visit.addEventListener("recording", (event) => {
    state.recording = event.detail.state;
    renderRecording();
  });
  visit.addEventListener("remote-track", (event) => attachRemote(root, visit, event.detail));
  visit.addEventListener("participants", () => labelRemotes(root, visit));
  visit.addEventListener("ended", ended);
  visit.addEventListener("closed", (event) => {
    if (!event.detail.ended) ended();
  });

  // 1. Device check: camera, microphone and connection, in plain words.
  show("check");
  const connecting = visit.open();
  let welcome = null;
  try {
    welcome = await connecting;
  } catch (error) {
    fail(error.message);
  }
  await languagePicker($("language"), chosen ?? welcome?.language, renderTexts, { remember });
  renderTexts();
  if (!welcome) {
    $("check-connection").textContent = t("check.connection.failed");
    return;
  }
  $("check-connection").textContent = t("check.connection.ok");
  try {
    stream = await getLocalMedia();
    $("preview").srcObject = stream;
    const hasVideo = stream.getVideoTracks().length > 0;
    $("check-camera").textContent = t(hasVideo ? "check.camera.ok" : "check.camera.missing");
    audioOnly = !hasVideo;
    $("check-microphone").textContent = t("check.microphone.ok");
    meter = levelMeter(stream);
    const bar = $("mic-level");
    const tick = () => {
      if (!meter) return;
      bar.style.width = `${Math.round(meter.level() * 100)}%`;
      if (!$("step-check").hidden) requestAnimationFrame(tick);
    };
    tick();
    $("check-continue").disabled = false;
  } catch (error) {
    $("check-camera").textContent = t("check.camera.blocked");
    $("check-microphone").textContent = t("check.microphone.blocked");
    $("check-help").hidden = false;
    $("check-help").textContent = t("check.blocked_help");
  }

  const toConsent = () => show("consent");
  $("check-continue").addEventListener("click", toConsent);
  $("check-audio-only").addEventListener("click", async () => {
    audioOnly = true;
    for (const track of stream?.getVideoTracks() ?? []) track.stop();
    try {
      stream = await getLocalMedia({ audioOnly: true });
      toConsent();
    } catch (error) {
      $("check-help").hidden = false;
      $("check-help").textContent = t("check.blocked_help");
    }
  });

  // 2. Recording notice.
  const answer = (choice) => {
    visit.consent(choice, language());
    consented = true;
    if (admitted) maybeConnect();
    else show("lobby");
  };
  $("consent-accept").addEventListener("click", () => answer("accepted"));
  $("consent-decline").addEventListener("click", () => answer("declined"));

  // 3/4. Lobby and call controls.
  const leave = () => {
    visit.leave();
    ended();
  };
  $("lobby-leave").addEventListener("click", leave);
  $("call-leave").addEventListener("click", leave);
  $("toggle-mic").addEventListener("click", (event) => toggle(event.target, "audio"));
  $("toggle-camera").addEventListener("click", (event) => toggle(event.target, "video"));

  function toggle(button, kind) {
    const tracks = kind === "audio" ? stream.getAudioTracks() : stream.getVideoTracks();
    const off = button.getAttribute("aria-pressed") !== "true";
    for (const track of tracks) track.enabled = !off;
    button.setAttribute("aria-pressed", String(off));
    const key = kind === "audio" ? (off ? "call.unmute" : "call.mute") : off ? "call.camera_on" : "call.camera_off";
    button.dataset.i18n = key;
    button.textContent = t(key);
    const audio = stream.getAudioTracks().some((track) => track.enabled);
    const video = stream.getVideoTracks().some((track) => track.enabled);
    visit.setMedia(audio, video);
  }
  return visit;
}

// Remote media: one tile per receive slot; the slot's current participant names it.
export function attachRemote(root, visit, { slot, track }) {
  const container = root.querySelector("#remotes");
  let tile = container.querySelector(`[data-slot="${slot}"]`);
  if (!tile) {
    tile = document.createElement("figure");
    tile.className = "remote";
    tile.dataset.slot = String(slot);
    tile.innerHTML = "<video autoplay playsinline></video><figcaption></figcaption>";
    container.append(tile);
  }
  const video = tile.querySelector("video");
  const stream = video.srcObject ?? new MediaStream();
  stream.addTrack(track);
  video.srcObject = stream;
  labelRemotes(root, visit);
}

export function labelRemotes(root, visit) {
  for (const tile of root.querySelectorAll("#remotes .remote")) {
    const person = visit.participantInSlot(Number(tile.dataset.slot));
    tile.hidden = !person;
    tile.querySelector("figcaption").textContent = person ? person.name : "";
  }
}
