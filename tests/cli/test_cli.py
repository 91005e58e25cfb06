"""The command line through typer's runner, with the real speech engine."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
from typer.testing import CliRunner

from loosen.cli import app

HERE = Path(__file__).parent.parent
TINY = HERE / "data" / "tiny.toml"

runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_export_writes_a_wav_named_after_the_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run("export", TINY)
    assert code == 0, err
    info = sf.info(tmp_path / "tiny.wav")
    assert (info.samplerate, info.channels, info.subtype) == (48_000, 2, "PCM_16")
    assert "Wrote tiny.wav" in err


def test_export_writes_the_timeline_beside_the_audio(tmp_path: Path) -> None:
    out, timeline = tmp_path / "s.flac", tmp_path / "s.json"
    code, _, err = run("export", TINY, "-o", out, "--timeline", timeline, "--channels", "1")
    assert code == 0, err
    document = json.loads(timeline.read_text())
    assert set(document) >= {"title", "duration_s", "sample_rate", "events"}
    info = sf.info(out)
    assert info.channels == 1
    assert info.frames == round(document["duration_s"] * document["sample_rate"])
    kinds = {e["kind"] for e in document["events"]}
    assert kinds == {"speech", "chime", "hold", "pause", "rep", "breath"}
    cues = {e["cue"] for e in document["events"] if e["kind"] == "chime"}
    assert {
        "hold_start",
        "hold_end",
        "switch_sides",
        "halfway",
        "countdown",
        "rep",
        "session_end",
    } <= cues
    for event in document["events"]:
        assert set(event) >= {
            "start_s",
            "end_s",
            "kind",
            "step",
            "step_name",
            "side",
            "text",
            "cue",
        }


def test_show_prints_the_timeline_and_its_length() -> None:
    code, out, err = run("show", TINY)
    assert code == 0, err
    assert out.splitlines()[0].startswith("Tiny: ")
    assert "Reach right." in out and "hold start" in out
    assert any(line.split()[1:4] == ["6.00", "s", "hold"] for line in out.splitlines()[3:])


def test_show_json_matches_the_documented_shape() -> None:
    code, out, _ = run("show", TINY, "--json")
    assert code == 0
    document = json.loads(out)
    assert document["title"] == "Tiny"
    sides = {e["side"] for e in document["events"]}
    assert sides == {None, "left", "right"}
    holds = [e for e in document["events"] if e["kind"] == "hold"]
    assert [round(h["end_s"] - h["start_s"], 3) for h in holds] == [6.0, 6.0, 3.0]


def test_check_accepts_every_bundled_session() -> None:
    names = ["back-loosening", "pmr-16", "pmr-7", "pmr-4", "stretch-quick"]
    code, out, err = run("check", *names)
    assert code == 0, err
    assert out.count(": ok,") == len(names)


def test_list_shows_the_bundled_sessions_with_title_and_length() -> None:
    code, out, _ = run("list")
    assert code == 0
    assert "back-loosening" in out and "Loosen your back muscles" in out
    assert "pmr-16" in out


def test_voices_says_which_engine_it_lists() -> None:
    code, out, _ = run("voices", "--language", "en")
    assert code == 0
    assert out.startswith("# pyttsx3")
    assert "en-us" in out


def test_verbose_export_names_the_engine_and_voice(tmp_path: Path) -> None:
    code, _, err = run("export", TINY, "-o", tmp_path / "x.wav", "-v", "--voice", "en-gb-x-rp")
    assert code == 0, err
    assert "speech: pyttsx3" in err and "en-gb-x-rp" in err


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


BAD_SCRIPTS = {
    "syntax": ('title = "T"\n[[steps]\n', "bad.toml: line 2, column"),
    "kind": ('title = "T"\n[[steps]]\nkind = "dance"\n', "bad.toml: step 1, key 'kind'"),
    "variable": (
        'title = "T"\n[[steps]]\nkind = "say"\nname = "x"\ntext = "{colour}"\n',
        "bad.toml: step 1 'x', key 'text': unknown variable {colour}",
    ),
    "slot": (
        'title = "T"\n[[steps]]\nkind = "reps"\nname = "r"\ntext = "go"\ncount = 2\ncadence = 0.3\n'
        'rep_text = "this count is much too long to say in a third of a second {rep}"\n',
        "bad.toml: step 1 'r': the spoken count",
    ),
    "missing cue recipe": (
        'title = "T"\n[cues]\nhold_end = "no-such-sound"\n[[steps]]\nkind = "pause"\n',
        "bad.toml: cues.hold_end",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SCRIPTS))
def test_a_bad_script_gets_one_line_exit_2_and_no_file(tmp_path: Path, case: str) -> None:
    text, expected = BAD_SCRIPTS[case]
    script = write(tmp_path, text)
    out = tmp_path / "out.wav"
    code, stdout, err = run("export", script, "-o", out)
    assert code == 2
    assert err.startswith("Error: ") and expected in err, err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["export", "no-such-session"],
            "no script file or session named 'no-such-session'",
        ),
        (["export", "missing.toml"], "missing.toml: no such file"),
        (["export", "."], "is a folder"),
        (["export", TINY, "-o", "out.aiff"], "cannot export to .aiff"),
        (["export", TINY, "-o", "nowhere/out.wav"], "does not exist"),
        (["export", TINY, "-o", "."], "is a folder"),
        (["export", TINY, "--timeline", "t.txt"], "name it .json"),
        (["export", TINY, "--rate", "20"], "rate"),
        (["export", TINY, "--voice", "klingon"], "unknown voice 'klingon'"),
        (["export", TINY, "--engine", "nope"], "unknown speech engine 'nope'"),
        (["export", TINY, "--channels", "3"], "--channels 3: must be 1 or 2"),
        (["export", TINY, "--sample-rate", "100"], "--sample-rate 100: must be"),
        (["check", "missing.toml"], "no such file"),
        (["show", "missing.toml"], "no such file"),
        (["voices", "--engine", "nope"], "available"),
    ],
)
def test_bad_options_get_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    code, stdout, err = run(*args)
    assert code == 2, (stdout, err)
    assert expected in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + stdout
    assert list(tmp_path.iterdir()) == []


def test_help_lists_every_command() -> None:
    code, out, _ = run("--help")
    assert code == 0
    for command in ("export", "show", "check", "list", "voices", "sounds"):
        assert command in out


def test_a_write_failure_is_a_runtime_error_with_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    code, _, err = run("export", TINY, "-o", tmp_path / "out.wav")
    assert code == 1
    assert (
        err.strip()
        == f"Error: {tmp_path / 'out.wav'}: could not write the file: No space left on device"
    )
    assert list(tmp_path.iterdir()) == []


LONG = "a" * 300  # past the 255 bytes a name may have on ext4 and most file systems
NEARLY = "b" * 246  # .wav makes 250: a name that fits, but not the temporary file's beside it


@pytest.mark.parametrize(
    "where",
    [
        ["-o", f"{LONG}.wav"],
        ["-o", f"{NEARLY}.wav"],
        ["--split", "-o", LONG],
        ["-o", "t.wav", "--timeline", f"{LONG}.json"],
    ],
)
def test_a_name_too_long_for_the_file_system_is_one_line_before_any_rendering(
    tmp_path: Path, where: list[str]
) -> None:
    import errno
    import os

    if os.pathconf(tmp_path, "PC_NAME_MAX") > 300:
        pytest.skip("this file system takes names of 300 bytes")
    paths = [arg if arg.startswith("-") else str(tmp_path / arg) for arg in where]
    done = subprocess.run(
        [sys.executable, "-m", "loosen", "export", str(TINY), *paths],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "LOOSEN_CACHE_DIR": str(tmp_path / "cache")},
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    named = tmp_path / max(where, key=len)
    reason = os.strerror(errno.ENAMETOOLONG)
    assert done.stderr.splitlines() == [f"Error: {named}: cannot write in {tmp_path}: {reason}"]
    assert list(tmp_path.iterdir()) == []  # refused before a word was spoken


def test_ctrl_c_during_export_exits_130_and_leaves_no_partial_file(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "pmr-16.wav"
    out.write_bytes(b"the previous export")
    process = subprocess.Popen(
        [sys.executable, "-m", "loosen", "export", "pmr-16", "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "LOOSEN_CACHE_DIR": str(tmp_path / "cache")},
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".pmr-16.wav.*.part")) and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert err.strip().splitlines()[-1] == "Interrupted."
    assert "Traceback" not in err
    assert out.read_bytes() == b"the previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "pmr-16.wav"]


def test_importing_the_command_loads_no_audio_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys, loosen, loosen.cli; "
        "print([m for m in ('sounddevice', 'numpy', 'soundfile', 'pyttsx3') if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_scripts_language_picks_the_voice_when_none_is_named(tmp_path: Path) -> None:
    script = tmp_path / "de.toml"
    script.write_text('title = "T"\nlanguage = "de"\n[[steps]]\nkind = "say"\ntext = "Atme ein."\n')
    code, _, err = run("export", script, "-o", tmp_path / "de.wav", "-v")
    assert code == 0, err
    assert "voice de," in err


def test_fit_makes_the_exported_session_last_the_target_within_a_second(tmp_path: Path) -> None:
    out = tmp_path / "fit.wav"
    code, _, err = run("export", "stretch-quick", "--fit", "6m", "-o", out)
    assert code == 0, err
    assert sf.info(out).duration == pytest.approx(360.0, abs=1.0)


def test_show_reflects_pace_and_set_before_anything_is_rendered() -> None:
    def total(*args: str) -> str:
        code, out, err = run("show", TINY, *args)
        assert code == 0, err
        return out.splitlines()[0]

    plain, slower = total(), total("--pace", "1.5")
    assert plain != slower
    _, out, _ = run("show", TINY, "--set", "reach.hold=9", "--json")
    holds = [e for e in json.loads(out)["events"] if e["kind"] == "hold"]
    assert [round(h["end_s"] - h["start_s"], 3) for h in holds][:2] == [9.0, 9.0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--pace", "0"], "--pace 0: the factor must be from 0.25 to 4"),
        (["--pace", "zippy"], "preset: gentle, standard, brisk"),
        (["--fit", "10s"], "--fit 10s: the session cannot be shorter than"),
        (["--fit", "soon"], "--fit soon: expected a duration"),
        (["--fit", "5m", "--pace", "2"], "choose one of --pace and --fit"),
        (["--set", "dance.hold=3"], "--set dance.hold=3: no step of that name"),
        (["--set", "reach.colour=3"], "a hold step has no 'colour'"),
    ],
)
def test_bad_pacing_options_get_one_line_and_exit_2(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    code, _, err = run("export", TINY, "-o", tmp_path / "x.wav", *args)
    assert code == 2, err
    assert expected in err
    assert len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_new_copies_a_session_that_list_then_shows_as_yours() -> None:
    code, out, err = run("new", "my-evening", "--from", "pmr-4")
    assert code == 0, err
    code, out, _ = run("list")
    line = next(x for x in out.splitlines() if x.startswith("my-evening"))
    assert "yours" in line
    code, _, err = run("new", "my-evening")
    assert code == 2
    assert "already exists" in err


def test_export_embeds_chapters_and_writes_the_asked_sidecars(tmp_path: Path) -> None:
    out = tmp_path / "tiny.ogg"
    code, _, err = run("export", TINY, "-o", out, "--chapters", "vtt", "--chapters", "audacity")
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.ogg", "tiny.txt", "tiny.vtt"]
    assert (tmp_path / "tiny.vtt").read_text().startswith("WEBVTT")
    labels = (tmp_path / "tiny.txt").read_text().splitlines()
    assert [line.split("\t")[2] for line in labels][:3] == [
        "welcome",
        "reach (right)",
        "reach (left)",
    ]


def test_split_writes_one_numbered_file_per_chapter(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    code, _, err = run("export", TINY, "--split", "-o", folder, "--format", "flac")
    assert code == 0, err
    names = sorted(p.name for p in folder.iterdir())
    assert names[:3] == ["01 welcome.flac", "02 reach (right).flac", "03 reach (left).flac"]


def test_an_unknown_sidecar_kind_is_refused_before_any_work(tmp_path: Path) -> None:
    code, _, err = run("export", TINY, "-o", tmp_path / "x.wav", "--chapters", "pdf")
    assert code == 2
    assert "cue, audacity, json, vtt" in err
    assert list(tmp_path.iterdir()) == []


def test_levels_and_ambience_from_the_command_line_reach_the_export(tmp_path: Path) -> None:
    import numpy as np

    plain, ambient = tmp_path / "plain.wav", tmp_path / "ambient.wav"
    assert run("export", TINY, "-o", plain, "--loudness", "off")[0] == 0
    code, _, err = run(
        "export", TINY, "-o", ambient, "--ambience", "brown-noise", "--voice-db", "-6",
        "--loudness", "off",
    )  # fmt: skip
    assert code == 0, err
    a, _ = sf.read(plain, dtype="float32")
    b, _ = sf.read(ambient, dtype="float32")
    assert not np.array_equal(b[:, 0], b[:, 1])  # the ambience is stereo
    assert np.max(np.abs(b)) < np.max(np.abs(a))  # the voice is 6 dB down


@pytest.mark.parametrize(
    ("name", "channels", "target"),
    [("stereo.wav", "2", -16.0), ("mono.flac", "1", -19.0), ("stereo.ogg", "2", -16.0),
     ("louder.mp3", "2", -14.0)],
)  # fmt: skip
def test_exports_are_loudness_normalised_as_an_independent_meter_measures(
    tmp_path: Path, name: str, channels: str, target: float
) -> None:
    import re
    import shutil
    import subprocess

    from tests.tools import require

    out = tmp_path / name
    extra = ["--loudness", str(target)] if target == -14.0 else []
    code, _, err = run("export", "stretch-quick", "-o", out, "--channels", channels, *extra)
    assert code == 0, err
    ffmpeg = require("ffmpeg")
    assert shutil.which(ffmpeg)
    meter = subprocess.run(
        [ffmpeg, "-hide_banner", "-nostats", "-i", str(out), "-af", "ebur128=peak=true",
         "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr.split("Summary:")[-1]  # fmt: skip
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", meter)[1])  # type: ignore[index]
    true_peak = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", meter)[1])  # type: ignore[index]
    assert integrated == pytest.approx(target, abs=1.0)
    assert true_peak <= -1.0


def test_a_bad_loudness_is_refused(tmp_path: Path) -> None:
    code, _, err = run("export", TINY, "-o", tmp_path / "x.wav", "--loudness", "loud")
    assert code == 2
    assert "--loudness loud: give LUFS" in err


def test_split_parts_put_together_equal_the_normalised_single_export(tmp_path: Path) -> None:
    import numpy as np

    whole = tmp_path / "whole.flac"
    assert run("export", TINY, "-o", whole)[0] == 0
    code, _, err = run("export", TINY, "--split", "-o", tmp_path / "parts", "--format", "flac")
    assert code == 0, err
    parts = sorted((tmp_path / "parts").iterdir())
    joined = np.concatenate([sf.read(p, dtype="int16")[0] for p in parts])
    assert np.array_equal(joined, sf.read(whole, dtype="int16")[0])


def loosen(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run the command in a process of its own (a batch starts worker processes)."""
    return subprocess.run(
        [sys.executable, "-m", "loosen", *map(str, args)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_several_scripts_export_in_parallel_one_file_each_into_a_folder(tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text(TINY.read_text().replace('title = "Tiny"', 'title = "Other"'))
    folder = tmp_path / "out"
    done = loosen("export", TINY, other, "-o", folder, "-j", "2", "--format", "flac")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["other.flac", "tiny.flac"]
    single = tmp_path / "single.flac"
    assert loosen("export", TINY, "-o", single).returncode == 0
    batch_audio, _ = sf.read(folder / "tiny.flac", dtype="int16")
    single_audio, _ = sf.read(single, dtype="int16")
    assert (batch_audio == single_audio).all()  # the same export, only run alongside another
    assert done.stderr.strip().splitlines()[-1] == "Exported 2 of 2 sessions"


def test_a_bad_script_in_a_batch_fails_alone_with_its_name_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "Bad"\n[[steps]]\nkind = "hover"\n')
    folder = tmp_path / "out"
    done = loosen("export", TINY, bad, "-o", folder)
    assert done.returncode == 2
    assert [p.name for p in folder.iterdir()] == ["tiny.wav"]
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and str(bad) in errors[0], done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == "Exported 1 of 2 sessions"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--timeline", "t.json"], "--timeline names one file"),
        (["-j", "0"], "--jobs must be at least 1"),
        (["--format", "aiff"], "cannot export to .aiff"),
    ],
)
def test_a_batch_with_bad_options_is_refused_before_any_work(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    code, _, err = run("export", TINY, "stretch-quick", "-o", tmp_path / "out", *extra)
    assert code == 2
    assert message in err
    assert not (tmp_path / "out").exists()


def test_two_scripts_that_would_write_the_same_file_are_refused(tmp_path: Path) -> None:
    twin = tmp_path / "tiny.toml"
    twin.write_text(TINY.read_text())
    code, _, err = run("export", TINY, twin, "-o", tmp_path / "out")
    assert code == 2
    assert "would both be written as tiny" in err


def test_a_wav_written_as_it_is_laid_out_that_might_pass_4_gb_is_rf64(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import loosen.output.formats

    monkeypatch.setattr(loosen.output.formats, "_WAV_LIMIT_BYTES", 1_000_000)  # 4 GB as 1 MB
    out = tmp_path / "long.wav"
    code, _, err = run("export", TINY, "-o", out, "--loudness", "off")
    assert code == 0, err
    assert out.read_bytes()[:4] == b"RF64"
