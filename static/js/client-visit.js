// The client's (or guest's) side of a visit, shared by the join page and the kiosk:
// device check -> recording notice -> lobby -> call -> ended.
import { languagePicker } from "./client.js";
import { language, t } from "./i18n.js";
import { getLocalMedia, levelMeter, VisitConnection } from "./visit-connection.js";

const STEPS = ["check", "consent", "lobby", "call", "ended"];

// What a client is told when the server refuses them, in their language.
const ERROR_TEXTS = {
  not_signed_in: "visit.invalid",
  visit_closed: "errors.visit_closed",
  visit_ended: "errors.visit_closed",
  too_many_attempts: "errors.too_many_attempts",
  connection_failed: "check.connection.failed",
};

export async function runClientVisit(
  root,
  token,
  { onEnded = () => {}, endedText, language: chosen, remember = true } = {},
) {
  root.innerHTML = await (await fetch("/static/parts/client-visit.html")).text();
  const $ = (id) => root.querySelector(`#${id}`);
  // Text that follows the language picker: translate() re-reads data-i18n on every switch.
  const say = (element, key) => {
    element.dataset.i18n = key;
    element.textContent = t(key);
  };
  const show = (step) => {
    for (const name of STEPS) $(`step-${name}`).hidden = name !== step;
    const heading = $(`step-${step}`).querySelector("h1");
    heading?.setAttribute("tabindex", "-1");
    heading?.focus();
  };
  const fail = (code) => say($("visit-error"), ERROR_TEXTS[code] ?? "common.error");

  const visit = new VisitConnection({ token });
  let stream = null;
  let meter = null;
  let audioOnly = false;
  let admitted = false;
  let consented = false;
  let connected = false;
  let finished = false;
  let recording = null;

  function renderTexts() {
    const name = visit.welcome?.booking.caseworker_name ?? "";
    $("consent-notice").textContent = t("consent.notice", { caseworker: name });
    $("lobby-text").textContent = t("lobby.text", { caseworker: name });
    if (endedText) say($("ended-text"), endedText);
    renderRecording();
  }

  function renderRecording() {
    const badge = $("recording-badge");
    badge.hidden = !recording || recording === "waiting";
    badge.textContent = recording ? t(`recording.${recording}`) : "";
    badge.dataset.state = recording ?? "";
  }

  function stopMeter() {
    meter?.close();
    meter = null;
  }

  // However the visit ends (hung up, ended by staff, connection lost): once.
  function ended(textKey) {
    if (finished) return;
    finished = true;
    visit.close();
    for (const track of stream?.getTracks() ?? []) track.stop();
    stopMeter();
    if (!endedText && textKey) say($("ended-text"), textKey);
    show("ended");
    onEnded();
  }

  async function maybeConnect() {
    if (!admitted || !consented || connected) return;
    connected = true;
    show("call");
    $("toggle-camera").hidden = audioOnly;
    $("self-view").srcObject = stream;
    try {
      await visit.connectMedia(stream, { audioOnly });
    } catch (error) {
      fail("connection_failed");
    }
  }

  visit.addEventListener("error", (event) => fail(event.detail.code));
  visit.addEventListener("admitted", () => {
    admitted = true;
    maybeConnect();
  });
  visit.addEventListener("recording", (event) => {
    recording = event.detail.state;
    renderRecording();
  });
  visit.addEventListener("remote-track", (event) => attachRemote(root, visit, event.detail));
  visit.addEventListener("participants", () => labelRemotes(root, visit));
  visit.addEventListener("connection", (event) => {
    if (event.detail.state === "failed") ended("ended.lost");
  });
  visit.addEventListener("ended", () => ended("ended.text"));
  visit.addEventListener("closed", (event) => {
    if (event.detail.welcomed && !event.detail.ended) ended("ended.lost");
  });

  // 1. Device check: camera, microphone and connection, in plain words.
  show("check");
  let welcome = null;
  let refused = null;
  try {
    welcome = await visit.open();
  } catch (error) {
    refused = error.code;
  }
  await languagePicker($("language"), chosen ?? welcome?.language, renderTexts, { remember });
  renderTexts();
  if (!welcome) {
    visit.close();
    say($("check-connection"), "check.connection.failed");
    // A hello refused as malformed carried nothing but the link's token: the link is bad.
    fail(refused === "invalid_message" ? "not_signed_in" : refused);
    $("check-continue").hidden = true;
    $("check-audio-only").hidden = true;
    onEnded();
    return visit;
  }
  say($("check-connection"), "check.connection.ok");
  try {
    stream = await getLocalMedia();
    $("preview").srcObject = stream;
    const hasVideo = stream.getVideoTracks().length > 0;
    say($("check-camera"), hasVideo ? "check.camera.ok" : "check.camera.missing");
    audioOnly = !hasVideo;
    $("check-audio-only").hidden = !hasVideo;
    say($("check-microphone"), "check.microphone.ok");
    meter = levelMeter(stream);
    const bar = $("mic-level");
    const tick = () => {
      if (!meter) return;
      bar.style.width = `${Math.round(meter.level() * 100)}%`;
      requestAnimationFrame(tick);
    };
    tick();
    $("check-continue").disabled = false;
  } catch (error) {
    say($("check-camera"), "check.camera.blocked");
    say($("check-microphone"), "check.microphone.blocked");
    $("check-help").hidden = false;
    say($("check-help"), "check.blocked_help");
  }

  const toConsent = () => {
    stopMeter();
    show("consent");
  };
  $("check-continue").addEventListener("click", toConsent);
  $("check-audio-only").addEventListener("click", async () => {
    audioOnly = true;
    // Keep the microphone already working; only let go of the camera.
    for (const track of stream?.getVideoTracks() ?? []) {
      track.stop();
      stream.removeTrack(track);
    }
    $("preview").srcObject = null;
    try {
      stream ??= await getLocalMedia({ audioOnly: true });
      toConsent();
    } catch (error) {
      $("check-help").hidden = false;
      say($("check-help"), "check.blocked_help");
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
    ended("ended.text");
  };
  $("lobby-leave").addEventListener("click", leave);
  $("call-leave").addEventListener("click", leave);
  $("toggle-mic").addEventListener("click", (event) => toggle(event.currentTarget, "audio"));
  $("toggle-camera").addEventListener("click", (event) => toggle(event.currentTarget, "video"));

  function toggle(button, kind) {
    const tracks = kind === "audio" ? stream.getAudioTracks() : stream.getVideoTracks();
    const off = button.getAttribute("aria-pressed") !== "true";
    for (const track of tracks) track.enabled = !off;
    button.setAttribute("aria-pressed", String(off));
    const key = kind === "audio" ? (off ? "call.unmute" : "call.mute") : off ? "call.camera_on" : "call.camera_off";
    say(button, key);
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
