"""A live visit: the one owner of its participants, peer connections, relay and recorder.

Every way a visit can end (staff hang-up, everyone gone, server shutdown) goes through
`end()`, which runs once however often and from wherever it is called.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay

from signaling import records
from signaling.ice import IceConfig, make_peer_connection
from signaling.participant import Participant, Slot
from signaling.protocol import (
    Admit,
    ConsentAnswer,
    End,
    Incoming,
    Leave,
    MediaState,
    Offer,
    Ping,
    ProtocolError,
)
from signaling.recording import RecordingManifest, VisitRecorder
from visits.db import Database, utcnow

logger = logging.getLogger(__name__)


class RecordingState:
    """What the visit's recording is doing, as shown to everyone in it."""

    WAITING = "waiting"  # nobody with media yet
    RECORDING = "recording"
    PAUSED = "paused"  # someone present has not answered the consent notice
    DECLINED = "declined"  # someone declined: the rest of the visit is not recorded


@dataclass(frozen=True)
class VisitContext:
    """What a visit needs from the application; owned by LiveVisits."""

    db: Database
    ice: IceConfig
    notice_version: str
    data_dir: Path
    make_recorder: Callable[[uuid.UUID], VisitRecorder]
    empty_grace_seconds: float
    after_visit: Callable[[uuid.UUID, RecordingManifest | None], Awaitable[None]]


class VisitSession:
    def __init__(self, booking_id: uuid.UUID, context: VisitContext) -> None:
        self.booking_id = booking_id
        self.context = context
        self.participants: dict[str, Participant] = {}
        self.roster: dict[str, tuple[str, str]] = {}  # everyone who joined: id -> (role, name)
        self.relay = MediaRelay()
        self.recorder: VisitRecorder | None = None
        self.recording = RecordingState.WAITING
        self.decline_note = ""
        self.held = False  # a client or guest was let in: the visit took place
        self.ended = asyncio.Event()
        self._ending: asyncio.Task[None] | None = None
        self._empty_timer: asyncio.TimerHandle | None = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    def _spawn(self, work: Awaitable[None]) -> None:
        """Run `work` in a task this session owns (cancelled at teardown if still running)."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- joining and leaving -------------------------------------------------------------

    async def join(self, participant: Participant) -> None:
        """Staff are admitted at once; clients and guests wait in the lobby."""
        if self.ended.is_set() or self._ending:
            raise ProtocolError("visit_ended", "This visit has ended.")
        async with self._lock:
            self._cancel_empty_timer()
            self.participants[participant.id] = participant
            self.roster[participant.id] = (participant.role, participant.name)
            if participant.is_staff:
                await self._admit(participant)
        await self._announce()

    async def leave(self, participant: Participant, reason: str) -> None:
        """Take `participant` out (idempotent); end the visit when nobody is left."""
        async with self._lock:
            if self.participants.pop(participant.id, None) is None:
                return
            participant.gone = True
            logger.info("visit %s: %s left (%s)", self.booking_id, participant.id, reason)
            await self._disconnect(participant)
            self._update_recording()
        await self._announce()
        if not self.participants:
            self._schedule_end_when_empty()

    def _schedule_end_when_empty(self) -> None:
        if self.ended.is_set():
            return
        grace = self.context.empty_grace_seconds if self.held else 0.0
        loop = asyncio.get_running_loop()
        self._cancel_empty_timer()
        self._empty_timer = loop.call_later(
            grace, lambda: self.end("everyone_left") if not self.participants else None
        )

    def _cancel_empty_timer(self) -> None:
        if self._empty_timer is not None:
            self._empty_timer.cancel()
            self._empty_timer = None

    # -- messages ------------------------------------------------------------------------

    async def handle(self, participant: Participant, message: Incoming) -> None:
        match message:
            case Ping():
                await participant.tell({"type": "pong"})
            case ConsentAnswer():
                await self._consent(participant, message)
            case Admit():
                await self._admit_other(participant, message.participant_id)
            case Offer():
                await self._offer(participant, message.sdp)
            case MediaState():
                participant.audio_on, participant.video_on = message.audio, message.video
                await self._announce()
            case Leave():
                await self.leave(participant, "hung_up")
            case End():
                if not participant.is_staff:
                    raise ProtocolError("not_allowed", "Only staff can end the visit for everyone.")
                # Shielded: this handler's own socket closes during the teardown, and its
                # cancellation must not cut the teardown short.
                await asyncio.shield(self.end("ended_by_staff"))
            case _:
                raise ProtocolError("out_of_order", f"'{message.type}' is not expected now.")  # type: ignore[attr-defined]

    async def _consent(self, participant: Participant, answer: ConsentAnswer) -> None:
        if participant.consent is not None:
            raise ProtocolError(
                "already_answered", "You have already answered the recording notice."
            )
        if answer.notice_version != self.context.notice_version:
            raise ProtocolError(
                "outdated_notice",
                f"The recording notice changed (now version {self.context.notice_version}); "
                "reload the page to read it.",
            )
        await records.store_consent(self.context.db, self.booking_id, participant, answer)
        async with self._lock:
            participant.consent = answer.choice
            if answer.choice == "declined" and self.recording != RecordingState.DECLINED:
                self.decline_note = (
                    f"Not recorded: the {participant.role} declined the recording."
                    if self.recorder is None
                    else f"Recording stopped at {utcnow():%H:%M} UTC: "
                    f"the {participant.role} declined the recording."
                )
                self.recording = RecordingState.DECLINED
                await records.note_declined(self.context.db, self.booking_id, self.decline_note)
                if self.recorder is not None:
                    self.recorder.pause()
            self._update_recording()
        await self._announce()

    async def _admit_other(self, participant: Participant, other_id: str) -> None:
        if not participant.is_staff:
            raise ProtocolError("not_allowed", "Only staff can admit people from the lobby.")
        async with self._lock:
            other = self.participants.get(other_id)
            if other is None:
                raise ProtocolError("unknown_participant", f"Nobody with id {other_id} is waiting.")
            if other.admitted:
                raise ProtocolError("already_admitted", f"{other.name} is already in the visit.")
            await self._admit(other)
            self._update_recording()
        await self._announce()

    async def _admit(self, participant: Participant) -> None:
        participant.admitted = True
        if not participant.is_staff and not self.held:
            self.held = True
            await records.mark_started(self.context.db, self.booking_id)
        await participant.tell({"type": "admitted"})

    # -- media ---------------------------------------------------------------------------

    async def _offer(self, participant: Participant, sdp: str) -> None:
        if not participant.admitted:
            raise ProtocolError("not_admitted", "Wait until the caseworker lets you in.")
        if participant.consent is None:
            raise ProtocolError("consent_first", "Answer the recording notice first.")
        if participant.pc is not None:
            raise ProtocolError("already_connected", "This participant is already connected.")
        pc = make_peer_connection(self.context.ice)
        participant.pc = pc

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self._spawn(self._track_arrived(participant, track))

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed") and not participant.gone:
                await self.leave(participant, f"peer_{pc.connectionState}")

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        except Exception as error:  # aiortc raises plain ValueErrors for bad SDP
            participant.pc = None
            await pc.close()
            raise ProtocolError("invalid_sdp", f"The offer could not be used: {error}") from None
        participant.slots = _send_slots(pc)
        answer = await pc.createAnswer()
        await pc.setLocalDescription(answer)
        async with self._lock:
            for other in self.participants.values():
                if other is not participant:
                    self._feed(participant, other)
        await participant.tell({"type": "answer", "sdp": pc.localDescription.sdp})
        await self._announce()

    async def _track_arrived(self, participant: Participant, track: MediaStreamTrack) -> None:
        async with self._lock:
            if participant.gone:
                track.stop()
                return
            participant.inbound[track.kind] = track
            for other in self.participants.values():
                if other is not participant:
                    self._feed(other, participant)
            if self.recorder is not None and self.recording != RecordingState.DECLINED:
                self._record(participant, track)
            else:
                self._update_recording()
        await self._announce()

    def _feed(self, receiver: Participant, source: Participant) -> None:
        """Relay `source`'s tracks into a slot of `receiver`'s connection."""
        if not receiver.slots or not source.inbound:
            return  # not negotiated yet: its own offer feeds it everyone present
        slot = receiver.slot_for(source.id) or receiver.free_slot()
        if slot is None:
            logger.warning(
                "visit %s: no free slot for %s at %s", self.booking_id, source.id, receiver.id
            )
            return
        slot.carrying = source.id
        for kind, sender in (("audio", slot.audio), ("video", slot.video)):
            track = source.inbound.get(kind)
            if sender is None or track is None or sender.track is not None:
                continue
            # Audio must not skip; for video only the newest frame matters.
            feed = self.relay.subscribe(track, buffered=kind == "audio")
            slot.feeds.append(feed)
            sender.replaceTrack(feed)

    async def _disconnect(self, participant: Participant) -> None:
        for other in self.participants.values():
            slot = other.slot_for(participant.id)
            if slot is not None:
                _empty(slot)
        for slot in participant.slots:
            _empty(slot)
        for track in participant.inbound.values():
            track.stop()
        if participant.pc is not None:
            await participant.pc.close()

    # -- recording -----------------------------------------------------------------------

    def _update_recording(self) -> None:
        """Record only once the visit is held (a client or guest let in), only while everyone
        present has accepted, and never again after anyone declined."""
        if self.recording == RecordingState.DECLINED:
            return
        present = [p for p in self.participants.values() if p.admitted]
        everyone_agreed = bool(present) and all(p.consent == "accepted" for p in present)
        if not self.held:
            self.recording = RecordingState.WAITING
        elif everyone_agreed:
            self.recording = RecordingState.RECORDING
        else:
            self.recording = RecordingState.PAUSED
        if self.recorder is None:
            if self.recording != RecordingState.RECORDING or not any(p.inbound for p in present):
                return
            # Files start when recording first runs: nothing is written before that.
            self.recorder = self.context.make_recorder(self.booking_id)
            for participant in present:
                for track in participant.inbound.values():
                    self._record(participant, track)
        if self.recording == RecordingState.RECORDING:
            self.recorder.resume()
        else:
            self.recorder.pause()

    def _record(self, participant: Participant, track: MediaStreamTrack) -> None:
        assert self.recorder is not None
        # The recorder owns what it is given: a relay proxy (audio complete, video newest).
        proxy = self.relay.subscribe(track, buffered=track.kind == "audio")
        self.recorder.add_track(participant.id, participant.role, proxy)

    # -- telling everyone ----------------------------------------------------------------

    async def _announce(self) -> None:
        """Tell each participant who is there, where their media arrives, and what is recorded."""
        everyone = list(self.participants.values())
        for participant in everyone:
            others = []
            for other in everyone:
                if other is participant or not (other.admitted or participant.is_staff):
                    continue
                slot = participant.slot_for(other.id)
                others.append(
                    other.public()
                    | {
                        "audio_mid": slot.audio_mid if slot else None,
                        "video_mid": slot.video_mid if slot else None,
                    }
                )
            await participant.tell(
                {
                    "type": "participants",
                    "participants": others,
                    "recording": self.recording,
                    "recording_note": self.decline_note,
                }
            )

    # -- the end -------------------------------------------------------------------------

    def end(self, reason: str) -> asyncio.Task[None]:
        """End the visit for everyone; every caller gets the same (single) teardown."""
        if self._ending is None:
            self._ending = asyncio.ensure_future(self._teardown(reason))
        return self._ending

    async def _teardown(self, reason: str) -> None:
        logger.info("visit %s ends: %s", self.booking_id, reason)
        self._cancel_empty_timer()
        for task in list(self._tasks):
            task.cancel()
        try:
            async with self._lock:
                everyone = list(self.participants.values())
                self.participants.clear()
                for participant in everyone:
                    participant.gone = True
            for participant in everyone:
                await participant.send_final({"type": "ended", "reason": reason})
                await self._disconnect(participant)
                await participant.close()
            manifest = await self.recorder.close() if self.recorder is not None else None
            if self.held:
                await records.mark_ended(
                    self.context.db,
                    self.booking_id,
                    manifest,
                    self.recorder.directory if self.recorder else self.context.data_dir,
                    self.context.data_dir,
                    self.roster,
                    self.decline_note,
                )
            else:
                await records.revoke_kiosk(self.context.db, self.booking_id)
            await self.context.after_visit(self.booking_id, manifest)
        finally:
            self.ended.set()


def _send_slots(pc: RTCPeerConnection) -> list[Slot]:
    """Turn the transceivers the browser offered to receive on into send slots, in order."""
    audio, video = [], []
    for transceiver in pc.getTransceivers():
        if transceiver._offerDirection == "sendonly":  # the browser's recvonly m-lines
            transceiver.direction = "sendonly"
            (audio if transceiver.kind == "audio" else video).append(transceiver)
    slots = []
    for index in range(max(len(audio), len(video))):
        a = audio[index] if index < len(audio) else None
        v = video[index] if index < len(video) else None
        slots.append(
            Slot(
                audio=a.sender if a else None,
                video=v.sender if v else None,
                audio_mid=a.mid if a else None,
                video_mid=v.mid if v else None,
            )
        )
    return slots


def _empty(slot: Slot) -> None:
    for sender in (slot.audio, slot.video):
        if sender is not None and sender.track is not None:
            sender.replaceTrack(None)
    for feed in slot.feeds:
        feed.stop()
    slot.feeds.clear()
    slot.carrying = None
