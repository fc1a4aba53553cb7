"""Finish a recording whose process died: repair each partial file and write the manifest."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import av
import av.error

from ._manifest import (
    MANIFEST_NAME,
    SIDECAR_SUFFIX,
    PausedInterval,
    RecordingManifest,
    TrackSidecar,
    build_manifest,
    sha256_file,
    write_json_atomic,
)

logger = logging.getLogger(__name__)


def recover_recording(directory: Path) -> RecordingManifest:
    """Turn the sidecars and files a killed recorder left into a manifest (interrupted=True).

    A partial file (its sidecar has no end) is remuxed: every packet that can still be read goes
    into a fresh, properly finalized file that replaces it. Durations come from the repaired
    files; a pause still open at the crash is closed at the end of the file. Safe to run twice:
    the second run repairs nothing and still reports interrupted=True.
    """
    interrupted = not (directory / MANIFEST_NAME).exists()
    sidecars: list[TrackSidecar] = []
    for sidecar_path in sorted(directory.glob("*" + SIDECAR_SUFFIX)):
        try:
            sidecar = TrackSidecar.from_json(json.loads(sidecar_path.read_text()))
        except (OSError, ValueError, TypeError) as exc:
            logger.error("unreadable sidecar %s: %r", sidecar_path, exc)
            interrupted = True
            continue
        if sidecar.ended_at is None or sidecar.duration is None or sidecar.sha256 is None:
            interrupted = True
            _recover_track(directory, sidecar)
            write_json_atomic(sidecar_path, sidecar.to_json())
        interrupted = interrupted or sidecar.recovered
        sidecars.append(sidecar)
    manifest = build_manifest(sidecars, interrupted=interrupted, ended_at=None)
    write_json_atomic(directory / MANIFEST_NAME, manifest.to_json())
    return manifest


def _recover_track(directory: Path, sidecar: TrackSidecar) -> None:
    path = directory / Path(sidecar.file).name  # names come from us, but never trust a path
    duration = 0.0
    try:
        if path.exists() and path.stat().st_size > 0:
            remux_readable_part(path)
            duration = round(media_duration(path), 3)
        else:
            sidecar.error = "no media was written before the process died"
    except (av.error.FFmpegError, OSError) as exc:
        logger.error("cannot repair %s: %r", path, exc)
        sidecar.error = f"repair failed: {exc!r}"
    sidecar.duration = duration
    sidecar.ended_at = sidecar.started_at + duration
    sidecar.paused = [
        PausedInterval(p.start, p.end if p.end is not None else max(duration, p.start))
        for p in sidecar.paused
    ]
    sidecar.sha256 = sha256_file(path) if path.exists() else ""
    sidecar.recovered = True
    logger.info("recovered %s: %.2f s", path.name, duration)


def remux_readable_part(path: Path) -> None:
    """Copy every packet still readable from `path` into a finalized file that replaces it."""
    tmp = path.with_name(path.stem + ".repair" + path.suffix)
    with av.open(str(path)) as source:
        in_stream = source.streams[0]
        with av.open(str(tmp), "w", format=source.format.name.split(",")[0]) as target:
            out_stream = target.add_stream_from_template(in_stream)
            try:
                for packet in source.demux(in_stream):
                    if packet.dts is None:
                        continue  # the demuxer's end-of-stream marker
                    packet.stream = out_stream
                    target.mux(packet)
            except av.error.FFmpegError as exc:
                # A page/cluster cut by the kill: everything before it is kept.
                logger.info("%s: stopped at the damaged tail: %r", path.name, exc)
    os.replace(tmp, path)


def media_duration(path: Path) -> float:
    """Seconds of media in a (finalized) recording file.

    Audio is decoded and its samples counted (that also proves it decodes, and counts Opus
    pre-skip correctly); video uses the end of its last packet, as frames are sparse.
    """
    with av.open(str(path)) as container:
        stream = container.streams[0]
        if stream.type == "audio":
            samples = 0
            rate = stream.codec_context.sample_rate
            for frame in container.decode(stream):
                samples += frame.samples
            return samples / rate
        end = 0.0
        for packet in container.demux(stream):
            if packet.pts is None or packet.time_base is None:
                continue
            end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
        return end
