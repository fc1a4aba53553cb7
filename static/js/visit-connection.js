// The browser side of a live visit: the signaling WebSocket and one RTCPeerConnection to the
// server (protocol: docs/signaling.md). Pages listen for its events and render them.
//
// Events: welcome, participants, admitted, recording, remote-track, ended, error, closed.

const GATHERING_TIMEOUT_MS = 4000;

export class VisitConnection extends EventTarget {
  constructor(hello) {
    super();
    this.hello = hello;
    this.ws = null;
    this.pc = null;
    this.welcome = null;
    this.participants = [];
    this.midToParticipant = new Map();
    this.slotOfMid = new Map(); // mid of a receive transceiver -> slot number
    this.ended = false;
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  // Connect and say hello; resolves with the welcome, rejects with an Error whose `code` is
  // the server's error code (or "connection_failed" when the socket closed first).
  open() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.ws = new WebSocket(`${scheme}://${location.host}/ws/visit`);
    this.ws.addEventListener("open", () => this.send({ type: "hello", ...this.hello }));
    this.ws.addEventListener("message", (event) => this.onMessage(JSON.parse(event.data)));
    return new Promise((resolve, reject) => {
      const fail = (code, message) => {
        this.removeEventListener("welcome", onWelcome);
        this.removeEventListener("error", onError);
        reject(Object.assign(new Error(message), { code }));
      };
      const onWelcome = (event) => {
        this.removeEventListener("error", onError);
        resolve(event.detail);
      };
      const onError = (event) => fail(event.detail.code, event.detail.message);
      this.addEventListener("welcome", onWelcome, { once: true });
      this.addEventListener("error", onError, { once: true });
      this.ws.addEventListener("close", () => {
        if (!this.welcome) fail("connection_failed", "Could not reach the visit.");
        this.closePeer();
        this.emit("closed", { ended: this.ended, welcomed: Boolean(this.welcome) });
      });
    });
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  onMessage(message) {
    switch (message.type) {
      case "welcome":
        this.welcome = message;
        break;
      case "participants":
        this.participants = message.participants;
        this.midToParticipant.clear();
        for (const p of message.participants) {
          if (p.audio_mid) this.midToParticipant.set(p.audio_mid, p.participant_id);
          if (p.video_mid) this.midToParticipant.set(p.video_mid, p.participant_id);
        }
        this.emit("recording", { state: message.recording, note: message.recording_note });
        break;
      case "answer":
        this.pc
          ?.setRemoteDescription({ type: "answer", sdp: message.sdp })
          .catch((error) => this.emit("error", { code: "invalid_sdp", message: error.message }));
        return;
      case "ended":
        this.ended = true;
        this.closePeer();
        break;
      default:
        break;
    }
    this.emit(message.type, message);
  }

  consent(choice, language) {
    this.send({
      type: "consent",
      choice,
      language,
      notice_version: this.welcome.consent_notice_version,
    });
  }

  admit(participantId) {
    this.send({ type: "admit", participant_id: participantId });
  }

  setMedia(audio, video) {
    this.send({ type: "media", audio, video });
  }

  leave() {
    this.send({ type: "leave" });
  }

  endForEveryone() {
    this.send({ type: "end" });
  }

  // Offer our microphone/camera and `max_remote` receive slots, then wait for the answer.
  async connectMedia(localStream, { audioOnly = false } = {}) {
    const pc = new RTCPeerConnection(this.welcome.ice);
    this.pc = pc;
    for (const track of localStream.getTracks()) {
      if (audioOnly && track.kind === "video") continue;
      pc.addTransceiver(track, { direction: "sendonly", streams: [localStream] });
    }
    const slots = [];
    for (let i = 0; i < this.welcome.max_remote; i += 1) {
      slots.push([
        pc.addTransceiver("audio", { direction: "recvonly" }),
        audioOnly ? null : pc.addTransceiver("video", { direction: "recvonly" }),
      ]);
    }
    pc.addEventListener("track", (event) => {
      const slot = this.slotOfMid.get(event.transceiver.mid);
      if (slot !== undefined) this.emit("remote-track", { slot, track: event.track });
    });
    pc.addEventListener("connectionstatechange", () =>
      this.emit("connection", { state: pc.connectionState }),
    );
    await pc.setLocalDescription(await pc.createOffer());
    slots.forEach((pair, slot) => {
      for (const transceiver of pair) if (transceiver) this.slotOfMid.set(transceiver.mid, slot);
    });
    await waitForGathering(pc);
    this.send({ type: "offer", sdp: pc.localDescription.sdp });
  }

  // The participant a receive slot carries right now, if any.
  participantInSlot(slot) {
    for (const [mid, id] of this.midToParticipant) {
      if (this.slotOfMid.get(mid) === slot) return this.participants.find((p) => p.participant_id === id);
    }
    return undefined;
  }

  closePeer() {
    if (this.pc) {
      this.pc.close();
      this.pc = null;
    }
  }

  close() {
    this.closePeer();
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close();
  }
}

function waitForGathering(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, GATHERING_TIMEOUT_MS);
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

// Ask for camera and microphone; fall back to the microphone alone.
export async function getLocalMedia({ audioOnly = false } = {}) {
  const audio = { echoCancellation: true, noiseSuppression: true };
  if (!audioOnly) {
    try {
      return await navigator.mediaDevices.getUserMedia({
        audio,
        video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 20 } },
      });
    } catch (error) {
      if (error.name === "NotAllowedError") throw error;
    }
  }
  return navigator.mediaDevices.getUserMedia({ audio, video: false });
}

// A 0..1 microphone level, read on demand (for the device check).
export function levelMeter(stream) {
  const context = new AudioContext();
  // Phones start audio only after a tap; until then the bar would stay still.
  const resume = () => context.resume();
  if (context.state === "suspended") {
    document.addEventListener("pointerdown", resume, { once: true });
  }
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  context.createMediaStreamSource(stream).connect(analyser);
  const data = new Uint8Array(analyser.fftSize);
  return {
    level() {
      analyser.getByteTimeDomainData(data);
      let peak = 0;
      for (const value of data) peak = Math.max(peak, Math.abs(value - 128) / 128);
      return peak;
    },
    close() {
      document.removeEventListener("pointerdown", resume);
      if (context.state !== "closed") context.close();
    },
  };
}
