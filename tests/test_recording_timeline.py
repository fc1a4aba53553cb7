"""Placing received frames on a track's file timeline (no media, just the arithmetic)."""

from __future__ import annotations

from signaling.recording._timeline import AudioTimeline, VideoTimeline

RATE = 48000
FRAME = 960  # 20 ms


def _feed(timeline: AudioTimeline, pts_samples: int, arrival: float) -> tuple[int, int]:
    placement = timeline.place(pts_samples / RATE, FRAME, arrival)
    return placement.silence_before, placement.drop_leading


def test_contiguous_frames_are_written_back_to_back() -> None:
    """Frames whose pts follow each other get no silence and lose no samples."""
    timeline = AudioTimeline(RATE)
    for i in range(50):
        assert _feed(timeline, 1000 + i * FRAME, i * 0.02) == (0, 0)
    assert timeline.written == 50 * FRAME


def test_a_pts_gap_becomes_silence_of_the_same_length() -> None:
    """Three lost 20 ms packets leave 60 ms of silence, keeping later audio in place."""
    timeline = AudioTimeline(RATE)
    _feed(timeline, 0, 0.0)
    assert _feed(timeline, 4 * FRAME, 0.08) == (3 * FRAME, 0)
    assert timeline.written == 5 * FRAME


def test_overlapping_frames_are_trimmed() -> None:
    """A frame repeating already written time only adds its new samples."""
    timeline = AudioTimeline(RATE)
    _feed(timeline, 0, 0.0)
    assert _feed(timeline, FRAME // 4, 0.01) == (0, 3 * FRAME // 4)
    assert timeline.written == FRAME + FRAME // 4


def test_a_wrapped_rtp_timestamp_does_not_insert_hours_of_silence() -> None:
    """aiortc turns a backwards RTP timestamp into a +2**32 jump; the wall clock wins."""
    timeline = AudioTimeline(RATE)
    for i in range(100):
        _feed(timeline, i * FRAME, i * 0.02)
    silence, drop = _feed(timeline, 100 * FRAME + 2**32, 2.0)
    assert (silence, drop) == (0, 0)
    assert _feed(timeline, 101 * FRAME + 2**32, 2.02) == (0, 0)
    assert timeline.reanchored == 1


def test_timestamps_that_restart_continue_where_the_file_is() -> None:
    """A sender restarting its clock at 0 does not make later audio overwrite earlier audio."""
    timeline = AudioTimeline(RATE)
    for i in range(250):
        _feed(timeline, i * FRAME, i * 0.02)
    assert _feed(timeline, 0, 5.0) == (0, 0)
    assert timeline.written == 251 * FRAME


def test_padding_makes_the_file_as_long_as_the_wall_clock() -> None:
    """At the end, silence fills up to the time the track was connected."""
    timeline = AudioTimeline(RATE)
    _feed(timeline, 0, 0.0)
    assert timeline.pad_to(1.0) == RATE - FRAME
    assert timeline.pad_to(0.5) == 0


def test_video_keeps_one_frame_per_slot_with_its_own_time() -> None:
    """20 fps in, 5 fps out, each kept frame at its own timestamp."""
    timeline = VideoTimeline(5)
    kept = [timeline.place(i / 20, i / 20) for i in range(40)]
    times = [t for t in kept if t is not None]
    assert times == [i / 5 for i in range(10)]


def test_video_at_30_fps_still_averages_the_target_rate() -> None:
    """Input rates that do not divide evenly still give ~5 frames per second."""
    timeline = VideoTimeline(5)
    times = [t for i in range(300) if (t := timeline.place(i / 30, i / 30)) is not None]
    assert len(times) == 50
