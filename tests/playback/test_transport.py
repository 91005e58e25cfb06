"""The transport with a fake stream: the samples it hands on, pause, seek, spoken inserts."""

from collections.abc import Iterator

import numpy as np
import pytest

from loosen.playback.playhead import FADE_S
from loosen.playback.transport import Transport

RATE = 8_000


class Ramp:
    """A block source whose sample at frame f is f / 1e6, so positions can be read back."""

    sample_rate = RATE
    channels = 2

    def __init__(self, total_frames: int = RATE * 10):
        self.total_frames = total_frames

    def blocks(
        self, start_frame: int = 0, end_frame: int | None = None, block_frames: int = 1024
    ) -> Iterator[np.ndarray]:
        for b0 in range(start_frame, self.total_frames, block_frames):
            b1 = min(b0 + block_frames, self.total_frames)
            mono = (np.arange(b0, b1, dtype=np.float32) + 1) / 1e6
            yield np.repeat(mono[:, None], 2, axis=1)


def pull(transport: Transport, frames: int, chunk: int = 256) -> np.ndarray:
    """What a fake audio callback would receive over ``frames`` frames."""
    out = []
    for _ in range(0, frames, chunk):
        transport.wait_ready(1.0, ahead_s=chunk / RATE)  # a real device waits in real time
        buffer = np.full((chunk, 2), np.nan, np.float32)
        transport.fill(buffer)
        out.append(buffer.copy())
    return np.concatenate(out)[:, 0]


@pytest.fixture
def transport() -> Iterator[Transport]:
    t = Transport(Ramp(), block_frames=1000, queue_s=0.5)
    t.start()
    assert t.wait_ready(5.0)
    yield t
    t.close()


def test_untouched_playback_hands_on_the_rendered_samples_unchanged(transport: Transport) -> None:
    played = pull(transport, RATE, chunk=250)
    expected = (np.arange(RATE, dtype=np.float32) + 1) / 1e6
    assert np.array_equal(played, expected)
    assert transport.position == RATE


def test_the_session_end_finishes_playback() -> None:
    t = Transport(Ramp(total_frames=3000), block_frames=1000)
    t.start()
    assert t.wait_ready(5.0)
    played = pull(t, 4096)
    assert t.finished.is_set()
    assert np.count_nonzero(played) == 3000
    t.close()


def test_pause_fades_out_holds_the_position_and_resume_fades_in(transport: Transport) -> None:
    pull(transport, 2048)
    transport.set_paused(True)
    fading = pull(transport, 512)
    held = transport.position
    silence = pull(transport, 2048)
    assert not silence.any()
    assert transport.position == held == 2048 + round(FADE_S * RATE)
    assert abs(fading[-1]) < abs(fading[0])
    transport.set_paused(False)
    resumed = pull(transport, 1024)
    assert resumed[0] < (held + 1) / 1e6  # fading in
    assert resumed[-1] == pytest.approx((held + 1024) / 1e6)


def test_a_seek_continues_from_the_new_frame(transport: Transport) -> None:
    pull(transport, 1024)
    transport.seek(50_000)
    for _ in range(100):  # the producer refills the queue from the new frame
        if transport.wait_ready(0.05):
            break
    played = pull(transport, 1024)
    nonzero = played[played != 0]
    assert nonzero[-1] == pytest.approx((50_000 + 1024) / 1e6)
    assert transport.position == 50_000 + 1024


def test_volume_scales_the_output_after_a_smooth_change(transport: Transport) -> None:
    transport.gain = 0.5
    played = pull(transport, 1024)  # the first callback's block moves from 1 to 0.5, no click
    assert 0.5 * 101 / 1e6 < played[100] < 101 / 1e6
    assert played[500] == pytest.approx(0.5 * 501 / 1e6)


def test_words_said_with_the_session_held_play_at_their_frame_then_the_session_goes_on(
    transport: Transport,
) -> None:
    pull(transport, 1024)
    words = np.full(800, 0.25, np.float32)
    transport.announce(words, at_frame=1500, hold=True)
    played = pull(transport, 10 * 256)
    fade = round(FADE_S * RATE)
    # the session up to the frame, faded out over the next few ms, the words, then on
    assert np.allclose(played[: 1500 - 1024], (np.arange(1024, 1500) + 1) / 1e6)
    words_start = 1500 - 1024 + fade
    assert np.all(played[words_start : words_start + 800] == 0.25)
    after = played[words_start + 800 + fade :]  # past the fade back in
    start = 1500 + 2 * fade
    assert np.allclose(after, (np.arange(start, start + len(after)) + 1) / 1e6)


def test_words_mixed_in_leave_the_session_running_on_time(transport: Transport) -> None:
    pull(transport, 1024)
    words = np.full(800, 0.25, np.float32)
    transport.announce(words, at_frame=2000)
    played = pull(transport, 4 * 256)
    session = (np.arange(1024, 2048, dtype=np.float32) + 1) / 1e6
    expected = session.copy()
    expected[2000 - 1024 :] += 0.25
    assert np.allclose(played, expected)
    assert transport.position == 2048  # no frame was held back


def test_stop_fades_out_and_finishes(transport: Transport) -> None:
    pull(transport, 1024)
    transport.stop()
    pull(transport, 2048)
    assert transport.finished.is_set()


def test_an_underrun_plays_silence_then_playback_goes_on_where_it_was() -> None:
    t = Transport(Ramp(), block_frames=1000)  # producer not started: nothing queued
    played = pull(t, 256)
    assert not played.any()
    assert t.underruns == 1
    t.start()  # the renderer catches up: playback goes on where it was, nothing skipped
    try:
        after = pull(t, 2048)
        assert np.array_equal(after, (np.arange(2048, dtype=np.float32) + 1) / 1e6)
        assert not t.finished.is_set()
    finally:
        t.close()
