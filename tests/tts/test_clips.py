"""Speech spoken sentence by sentence: units, fixed level, and playback starting on the first."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from loosen.render.rendering import render_session
from loosen.script.loading import load_session
from loosen.sound.cues import load_cue_set
from loosen.tts import Clip, Speech
from loosen.tts.clips import SpeechClips, db_to_gain, prepare_speech, speech_frames, split_sentences
from tests.fakes import FakeEngine, RecordingSpeech

HERE = Path(__file__).parent.parent
RATE = 48_000
PARAGRAPH = "Lie down and close your eyes. Let your breath slow down. Feel the floor hold you."


class SentenceEngine(FakeEngine):
    """A fake engine that, like Piper, is given lines sentence by sentence; texts containing
    ``gate_word`` wait until ``gate`` is set."""

    sentence_pause_s = 0.4
    level_db = -2.0

    def __init__(self, gate_word: str | None = None) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate_word = gate_word

    def synthesize(self, texts: Sequence[str]) -> Iterator[tuple[str, Clip]]:
        for text in texts:
            if self.gate_word is not None and self.gate_word in text:
                assert self.gate.wait(10), "the test never opened the gate"
            yield from super().synthesize([text])


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        ('She said "rest." Then sleep.', ['She said "rest."', "Then sleep."]),
        ("Hold for 3.5 seconds.", ["Hold for 3.5 seconds."]),
        ("Slowly\u2026 now release.", ["Slowly\u2026", "now release."]),
        ("  Relax.  ", ["Relax."]),
        ("", []),
    ],
)
def test_a_line_is_cut_into_its_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


def test_a_sentence_engine_is_given_sentences_joined_by_its_pause_at_a_fixed_level() -> None:
    engine = SentenceEngine()
    clips = SpeechClips(Speech(engine, None), RATE)
    line = clips.samples(PARAGRAPH)
    assert engine.spoken == split_sentences(PARAGRAPH)
    assert clips.frames(PARAGRAPH) == line.size
    parts = [clips.samples(sentence) for sentence in split_sentences(PARAGRAPH)]
    pause = np.zeros(round(0.4 * RATE), np.float32)
    assert np.array_equal(line, np.concatenate([parts[0], pause, parts[1], pause, parts[2]]))
    # the fake engine's tones peak at 0.5: a fixed gain, not each line's peak, sets the level
    for part in parts:
        assert np.abs(part).max() == pytest.approx(0.5 * db_to_gain(-2.0), rel=0.02)


def test_the_other_engines_speak_a_line_whole_levelled_by_its_peak() -> None:
    engine = FakeEngine()
    clips = SpeechClips(Speech(engine, None), RATE)
    assert clips.units(PARAGRAPH) == [PARAGRAPH]
    clips.samples(PARAGRAPH)
    assert engine.spoken == [PARAGRAPH]


def test_the_spoken_part_of_a_line_is_known_before_the_rest_and_is_its_start() -> None:
    engine = SentenceEngine(gate_word="breath")
    speech = Speech(engine, None)
    clips = SpeechClips(speech, RATE)
    speech.prepare_ahead(split_sentences(PARAGRAPH))
    clips.frames(split_sentences(PARAGRAPH)[0])  # waits for the first sentence
    first, complete = clips.prefix(PARAGRAPH)
    assert not complete
    engine.gate.set()
    whole = clips.samples(PARAGRAPH)
    assert clips.prefix(PARAGRAPH)[1]
    # the first sentence and the pause after it, exactly as the whole line begins
    assert first.size == clips.frames(split_sentences(PARAGRAPH)[0]) + round(0.4 * RATE)
    assert np.array_equal(first, whole[: first.size])
    speech.stop()


OPENING = """
title = "Opening paragraph"

[[steps]]
kind = "say"
text = "Welcome to the mat. Your second sentence comes when it comes. And a third."

[[steps]]
kind = "hold"
name = "reach"
text = "Reach up. Then hold it."
seconds = 3
"""


def test_playback_starts_on_the_first_sentence_and_plays_the_samples_of_the_export(
    tmp_path: Path,
) -> None:
    script = tmp_path / "opening.toml"
    script.write_text(OPENING, encoding="utf-8")
    session = load_session(script)
    cue_set = load_cue_set(session.cues)
    exported = render_session(session, speech=Speech(SentenceEngine(), None), cue_set=cue_set)
    whole = np.concatenate(list(exported.blocks(block_frames=1024)))

    engine = SentenceEngine(gate_word="second")
    playing = render_session(
        session,
        speech=Speech(engine, None),
        cue_set=cue_set,
        progressive=True,
        synthesize_ahead=True,
    )
    blocks = playing.blocks(block_frames=1024)
    first = [next(blocks) for _ in range(30)]  # 0.64 s: lead-in, the first sentence begun
    assert engine.spoken == ["Welcome to the mat."]
    assert not playing.spans  # its step is not even laid out yet
    engine.gate.set()
    rest = list(blocks)
    assert np.array_equal(np.concatenate(first + rest), whole)
    playing.clips.speech.stop()


def test_what_is_kept_of_a_processed_line_is_named_by_the_clip_it_was_made_from(
    tmp_path: Path,
) -> None:
    from loosen.tts import SpeechCache

    cache = SpeechCache(tmp_path)
    clips = SpeechClips(Speech(FakeEngine(), cache), RATE)
    key = clips.derived_key(PARAGRAPH)
    assert key == SpeechClips(Speech(FakeEngine(), cache), RATE).derived_key(PARAGRAPH)
    assert key != SpeechClips(Speech(FakeEngine(), cache), 44_100).derived_key(PARAGRAPH)
    assert key != SpeechClips(Speech(SentenceEngine(), cache), RATE).derived_key(PARAGRAPH)
    # the engine spoke the line again, a little differently: the old profile no longer fits
    speech = Speech(FakeEngine(), cache)
    clip = speech.clip(PARAGRAPH)
    cache.put(speech.key(PARAGRAPH), Clip(clip.samples * np.float32(0.5), clip.sample_rate))
    assert SpeechClips(Speech(FakeEngine(), cache), RATE).derived_key(PARAGRAPH) != key
    assert SpeechClips(Speech(FakeEngine(), None), RATE).derived_key(PARAGRAPH) is None


def test_a_prefetched_line_is_processed_on_a_helper_thread_and_comes_out_the_same() -> None:
    speech = RecordingSpeech(FakeEngine(), None)
    clips = SpeechClips(speech, RATE)
    clips.prefetch(PARAGRAPH)
    clips.prefetch(PARAGRAPH)  # asked twice, made once
    for _ in range(500):
        if clips.prefetcher.waiting(PARAGRAPH):
            break
        threading.Event().wait(0.01)
    line = clips.samples(PARAGRAPH)
    assert speech.asked == [(PARAGRAPH, "loosen-prefetch")]
    assert np.array_equal(line, SpeechClips(Speech(FakeEngine(), None), RATE).samples(PARAGRAPH))
    assert clips.samples(PARAGRAPH) is line and not clips.prefetcher.waiting(PARAGRAPH)


def prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "loosen-prefetch"]


def test_closing_stops_and_joins_the_prefetch_thread_and_samples_still_come() -> None:
    before = prefetch_threads()
    with SpeechClips(Speech(FakeEngine(), None), RATE) as clips:
        clips.prefetch(PARAGRAPH)
        [fetcher] = [t for t in prefetch_threads() if t not in before]
        assert fetcher.is_alive()
    assert not fetcher.is_alive()
    assert prefetch_threads() == before
    clips.close()  # again: nothing to do
    clips.prefetch("Breathe in.")  # closed: no new thread
    assert prefetch_threads() == before and not clips.prefetcher.waiting("Breathe in.")
    assert clips.samples("Breathe in.").size > 0


def test_closing_waits_for_the_line_the_prefetch_thread_is_on() -> None:
    engine = SentenceEngine(gate_word="floor")
    clips = SpeechClips(Speech(engine, None), RATE)
    before = prefetch_threads()
    clips.prefetch(PARAGRAPH)  # its last sentence waits for the gate
    clips.prefetch("Rest now.")  # queued behind it: never made
    [fetcher] = [t for t in prefetch_threads() if t not in before]
    for _ in range(500):  # until the thread is on the line's last sentence
        if len(engine.spoken) == 2:
            break
        threading.Event().wait(0.01)
    clips.close(timeout_s=0.05)
    assert fetcher.is_alive()  # still on the gated line
    engine.gate.set()
    fetcher.join(5.0)
    assert not fetcher.is_alive() and not clips.prefetcher.waiting("Rest now.")


def test_the_mixer_has_the_next_line_prefetched_and_plays_the_same_samples() -> None:
    session = load_session(HERE / "data" / "tiny.toml")
    cues = load_cue_set(session.cues)
    speech = RecordingSpeech(FakeEngine(), None)
    rendering = render_session(session, speech=speech, cue_set=cues)
    mixed = np.concatenate(list(rendering.blocks(block_frames=RATE // 10)))
    plain = render_session(session, speech=Speech(FakeEngine(), None), cue_set=cues)
    assert np.array_equal(mixed, np.concatenate(list(plain.blocks(block_frames=RATE // 10))))
    assert "loosen-prefetch" in {where for _, where in speech.asked}


def offset_tone(offset: float, drift: float = 0.0) -> Clip:
    """A second of a 300 Hz tone between half a second and a second of silence, at 22050 Hz,
    all of it shifted by ``offset`` and, under the tone, by a 3 Hz wobble of ``drift``."""
    rate = 22_050
    t = np.arange(rate) / rate
    tone = 0.3 * np.sin(2 * np.pi * 300 * t) + drift * np.sin(2 * np.pi * 3 * t)
    samples = np.concatenate([np.zeros(rate // 2), tone, np.zeros(rate)]) + offset
    return Clip(samples.astype(np.float32), rate)


def test_a_clip_with_a_dc_offset_comes_out_centred_and_trimmed_like_a_clean_one() -> None:
    clean = prepare_speech(offset_tone(0.0), RATE)
    shifted = prepare_speech(offset_tone(0.01, drift=0.01), RATE)  # -40 dBFS: over the trim's -50
    assert shifted.size == clean.size == speech_frames(offset_tone(0.01), RATE)
    assert abs(float(shifted.mean())) < 1e-5  # under -100 dBFS

    def means(x: np.ndarray) -> np.ndarray:  # per 100 ms
        return x[: x.size // 4800 * 4800].reshape(-1, 4800).mean(axis=1)

    # the wobble, -33 dBFS per 100 ms at the line's level, falls under -60 dBFS
    assert np.abs(means(shifted) - means(clean)).max() < 1e-3
    np.testing.assert_allclose(shifted, clean, atol=5e-3)  # the tone itself is kept
