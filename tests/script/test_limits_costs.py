"""Each limit of a session at its edge, run through the command line in a child process held
to a memory and processor-time limit: what the limits allow stays cheap, and what passes them
is refused before it costs anything (no speech that cannot be used is synthesized)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loosen.script.limits import MAX_COUNT, MAX_EXPANDED_STEPS, MAX_TEXT_CHARS
from tests.bounded import run_bounded

HEADER = 'title = "Edge"\n[pacing]\ngap = 0\n'
# 284 variables filled in: 1988 characters, just under the limit of a line
MANY_VARIABLES = "{name} " * 284


def script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "edge.toml"
    path.write_text(HEADER + body)
    return path


def clips_in(cache: Path) -> int:
    return sum(1 for _ in cache.rglob("*.clip"))


def repeated(times: int, step: str) -> str:
    return f'[[steps]]\nkind = "repeat"\nname = "many"\ntimes = {times}\n{step}'


def test_a_session_of_the_step_limit_is_laid_out_shown_and_exported_in_bounded_memory(
    tmp_path: Path,
) -> None:
    steps = "".join(
        f'[[steps.steps]]\nkind = "say"\nname = "s{i}"\ntext = "Again."\n' for i in range(5)
    )
    path = script(tmp_path, repeated(MAX_EXPANDED_STEPS // 5, steps))
    done = run_bounded(["show", "--json", str(path)], memory_mb=400, cpu_s=20)
    assert done.returncode == 0, done.explained()
    assert done.stdout.count('"step_name": "s4"') >= MAX_EXPANDED_STEPS // 5
    # an hour and a half with 5000 chapters, at the smallest rate (a 85 MB file)
    out = tmp_path / "edge.wav"
    args = ["export", str(path), "-o", str(out), "--sample-rate", "8000", "--channels", "1"]
    done = run_bounded(args, memory_mb=400, cpu_s=30)
    assert done.returncode == 0, done.explained()
    assert "5000 chapters" in done.stderr


def test_six_hours_of_silence_are_laid_out_in_bounded_memory(tmp_path: Path) -> None:
    path = script(tmp_path, repeated(360, '[[steps.steps]]\nkind = "pause"\nseconds = 60\n'))
    done = run_bounded(["check", str(path)], memory_mb=400, cpu_s=10)
    assert done.returncode == 0, done.explained()
    assert done.stdout == f"{path}: ok, 360 steps, 6:00:07\n"


def test_a_hundred_thousand_hours_are_refused_in_a_moment(tmp_path: Path) -> None:
    path = script(
        tmp_path,
        '[[steps]]\nkind = "repeat"\ntimes = 1000\n[[steps.steps]]\nkind = "repeat"\n'
        'times = 5\n[[steps.steps.steps]]\nkind = "hold"\ntext = "Hold."\nseconds = "5h"\n',
    )
    done = run_bounded(["check", str(path)], memory_mb=300, cpu_s=3)
    assert done.returncode == 2, done.explained()
    assert "the session would last at least 25000 h; the limit is 6 h" in done.stderr


def test_lines_of_the_text_limit_full_of_variables_are_filled_and_laid_out_cheaply(
    tmp_path: Path,
) -> None:
    # 100 lines of 1988 characters, each filled in from 284 variables: about 4 h of speech
    say = f'[[steps.steps]]\nkind = "say"\nname = "abcdef"\ntext = "{MANY_VARIABLES}"\n'
    path = script(tmp_path, repeated(100, say))
    done = run_bounded(["check", str(path)], memory_mb=400, cpu_s=20)
    assert done.returncode == 0, done.explained()
    assert done.stdout.startswith(f"{path}: ok, 100 steps, 4:")


def test_a_session_that_passes_six_hours_once_spoken_is_refused_before_it_is_rendered(
    tmp_path: Path,
) -> None:
    # the same line 250 times: 1.2 h as the fastest voice could say its letters, 8 h spoken
    say = f'[[steps.steps]]\nkind = "say"\nname = "abcdef"\ntext = "{MANY_VARIABLES}"\n'
    path = script(tmp_path, repeated(250, say))
    out = tmp_path / "edge.wav"
    done = run_bounded(["export", str(path), "-o", str(out)], memory_mb=400, cpu_s=20)
    assert done.returncode == 2, done.explained()
    assert "the session lasts more than 6 h once its speech is measured" in done.stderr
    assert "'abcdef': the session lasts more than 6 h" in done.stderr  # the step that crosses it
    assert "(this step ends at 6 h " in done.stderr
    assert done.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edge.toml"]


@pytest.mark.parametrize("cadence_s", [0.2, 20])
def test_counts_that_cannot_fit_their_slot_are_refused_before_their_speech_is_made(
    tmp_path: Path, cadence_s: float
) -> None:
    # a thousand different counts of 2000 characters (5.6 h of slots at 20 s): 33 hours of
    # speech and 10 GB of cache, were all of them spoken before the first was found not to fit
    rep_text = ("{rep}. " + "Let the shoulders drop and the breath go down. " * 50)[:MAX_TEXT_CHARS]
    body = (
        f'[[steps]]\nkind = "reps"\ntext = "Go."\ncount = {MAX_COUNT}\ncadence = {cadence_s}\n'
        f'rep_text = "{rep_text}"\n'
    )
    path = script(tmp_path, body)
    cache = tmp_path / "cache"
    # the speech is made in other processes: a regression shows as a long wait, cut short
    done = run_bounded(["check", str(path)], memory_mb=400, cpu_s=20, hang_s=120,
                       env={"LOOSEN_CACHE_DIR": str(cache)})  # fmt: skip
    assert done.returncode == 2, done.explained()
    assert "step 1 (repetitions): the spoken count '1. Let the shoulders drop" in done.stderr
    if cadence_s < 1:  # even the fastest voice could not say it: nothing is spoken at all
        assert "takes at least" in done.stderr
        assert clips_in(cache) == 0
    else:  # spoken, measured and refused: the counts after it are never spoken
        assert "takes at least" not in done.stderr
        assert clips_in(cache) <= 3  # "Go.", the first count, perhaps the one being spoken
