"""How fast `loosen export` is, against what it cannot beat and against doing it by hand.

Run: PYTHONPATH=src python tests/benchmarks/bench_speed.py [--runs N] [--quick] [--formats]

Every figure is measured in this one run, so the ratios between them cancel the machine's speed
and noise; each is the median of N runs (default 3) of a fresh subprocess, wall time around
`subprocess.run`, with bytecode allowed as an installed package has it. Figures, per bundled
session:

- write floor: numpy and soundfile writing the session's frames of silence to a 16-bit WAV in
  one-second float32 blocks, as a renderer hands them (and the same in int16 blocks);
- speech floor: the pyttsx3 engine synthesizing each distinct line of the session once;
- `loosen export`, cold (a fresh speech cache) and warm (the same cache again), and warm with
  `--loudness off`;
- the hand-made pipeline: espeak-ng and sox commands doing the same job (see handmade.py);

then each format's warm export of a 29-minute session (pmr-16's groups twice, see
long_scripts.py) against its WAV's, without and with an ambience, as whole processes taking
turns (WAV, FLAC, OGG, MP3, ..., then again), each as a ratio to the WAV of its own round
(median and range of the rounds), and its bitrate;
the peak resident memory of a warm `loosen export` of a 10-minute and a 2-hour session
(generated from pmr-16), the time to first sound of `loosen play` (see
bench_first_sound.py; needs a PulseAudio server) and the wall time of `loosen --help`. A table
goes to stdout, then the targets with PASS or MISS; progress goes to stderr. `--quick`: one run
of each, back-loosening only (about 1 minute); `--formats`: the formats' rows alone (about 3
minutes with 3 runs). The full run takes about 3 minutes on a 2-core
machine. The hand-made pipeline needs espeak-ng and sox (Debian: apt-get install espeak-ng sox);
without them its row is skipped.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import bench_first_sound
import handmade
import long_scripts
import soundfile
import tight_floors

SESSIONS = ("back-loosening", "pmr-16")
RATE_HZ = tight_floors.RATE_HZ
LOOSEN = tight_floors.LOOSEN
LENGTH_TOLERANCE_S = 1.0
# the formats' rows: extension, options, and the row whose export of the same round it is
# measured against (its WAV); lossy files of a session without ambience are mono by default,
# and stereo with --channels 2 or with an ambience
AMBIENCE = ("--ambience", "brown-noise")
FORMAT_ROWS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "export warm .wav": (".wav", (), "export warm .wav"),
    "export warm .flac": (".flac", (), "export warm .wav"),
    "export warm .ogg (mono)": (".ogg", (), "export warm .wav"),
    "export warm .mp3 (mono)": (".mp3", (), "export warm .wav"),
    "export warm .ogg --channels 2": (".ogg", ("--channels", "2"), "export warm .wav"),
    "export warm .mp3 --channels 2": (".mp3", ("--channels", "2"), "export warm .wav"),
    "export warm .mp3 --quality high": (".mp3", ("--quality", "high"), "export warm .wav"),
    "export warm .m4a (mono)": (".m4a", (), "export warm .wav"),  # the phone extra's formats
    "export warm .opus (mono)": (".opus", (), "export warm .wav"),
    "export warm .wav, ambience": (".wav", AMBIENCE, "export warm .wav, ambience"),
    "export warm .ogg, ambience": (".ogg", AMBIENCE, "export warm .wav, ambience"),
    "export warm .mp3, ambience": (".mp3", AMBIENCE, "export warm .wav, ambience"),
}
REPO = Path(__file__).resolve().parents[2]

WRITE_FLOOR_PY = """\
import sys
import numpy as np
import soundfile as sf
path, total_frames, dtype = sys.argv[1], int(sys.argv[2]), sys.argv[3]
block = np.zeros((48000, 2), dtype=dtype)
with sf.SoundFile(path, "w", samplerate=48000, channels=2, subtype="PCM_16") as out:
    for start in range(0, total_frames, 48000):
        out.write(block[: total_frames - start])
"""

SPEECH_FLOOR_PY = """\
import json
import sys
from loosen.tts import open_engine
with open(sys.argv[1], encoding="utf-8") as file:
    texts = json.load(file)
with open_engine(sys.argv[2]) as engine:
    for _text, _clip in engine.synthesize(texts):
        pass
"""

PEAK_RSS_PY = """\
import resource
import subprocess
import sys
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=False).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)
"""


@dataclasses.dataclass(frozen=True)
class Figure:
    """One row of the table: a median over runs (None: skipped, ``note`` says why)."""

    name: str
    subject: str
    median: float | None
    unit: str = "s"
    spread: float | None = None  # max - min over the runs
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Target:
    """One target: what was measured against its limit."""

    name: str
    subject: str
    measured: float | None
    limit: float
    unit: str
    at_least: bool = False  # the measured figure must reach the limit, not stay under it

    @property
    def verdict(self) -> str:
        if self.measured is None:
            return "n/a (skipped)"
        passed = self.measured >= self.limit if self.at_least else self.measured <= self.limit
        return "PASS" if passed else "MISS"


class Bench:
    """Measures the figures into ``self.figures``, every output and cache in ``folder``."""

    def __init__(self, runs: int, folder: Path) -> None:
        self.runs = runs
        self.folder = folder
        self.began_s = time.perf_counter()
        self.figures: dict[tuple[str, str], Figure] = {}
        self.sessions: dict[str, str] = {}  # session: a line describing it
        self.memory_subjects: dict[str, str] = {}  # "10 min", "2 h": the subject of its row
        self.format_ratios: dict[str, float] = {}  # a format's row: median ratio to the WAV
        self.env = self.prepare_environment()
        self.version = code_version()
        self.fingerprints = [source_fingerprint()]  # at the start, then at the end
        self.pair_rows: list[tight_floors.PairRow] = []  # issue 18's tight floors

    # --- the rows ------------------------------------------------------------------------

    def measure_session(self, session: str) -> None:
        """Floors, exports and the hand-made pipeline of one bundled session."""
        timeline = self.show_timeline(session)
        total_frames = round(timeline["duration_s"] * RATE_HZ)
        texts = list(dict.fromkeys(e["text"] for e in timeline["events"] if e["kind"] == "speech"))
        self.sessions[session] = (
            f"{clock(timeline['duration_s'])}, {total_frames:,} frames at {RATE_HZ} Hz, "
            f"{len(texts)} distinct lines"
        )
        self.measure_write_floors(session, total_frames)
        self.measure_speech_floor(session, texts)
        self.measure_exports(session)
        self.measure_handmade(session, handmade.plan_from(timeline))

    def measure_write_floors(self, session: str, total_frames: int) -> None:
        for name, dtype in (("write floor", "float32"), ("write floor (int16 blocks)", "int16")):

            def command(out: Path, dtype: str = dtype) -> list[str]:
                return [sys.executable, "-c", WRITE_FLOOR_PY, str(out), str(total_frames), dtype]

            self.add(name, session, self.time_runs_s(f"{session} {name}", command, self.env))
        write_floor_s = self.median("write floor", session)
        self.add_ratio("write floor (int16 blocks)", session, write_floor_s, "write floor")

    def measure_speech_floor(self, session: str, texts: Sequence[str]) -> None:
        texts_file = self.folder / f"{session}-texts.json"
        texts_file.write_text(json.dumps(texts), encoding="utf-8")

        for engine in ("pyttsx3", *(("piper",) if piper_installed() else ())):
            name = "speech floor" if engine == "pyttsx3" else f"speech floor ({engine})"

            def command(_out: Path, engine: str = engine) -> list[str]:
                return [sys.executable, "-c", SPEECH_FLOOR_PY, str(texts_file), engine]

            runs_s = self.time_runs_s(f"{session} {name}", command, self.env)
            self.add(name, session, runs_s, note=f"{len(texts)} lines")
        if piper_installed():
            self.add_ratio("speech floor (piper)", session, self.median("speech floor", session),
                           "speech floor (pyttsx3)")  # fmt: skip

    def measure_exports(self, session: str) -> None:
        """Per run and loudness setting: a cold export into a fresh cache, then a warm one."""
        off = ("--loudness", "off")
        kinds: dict[str, tuple[tuple[str, ...], bool]] = {  # options, with a fresh cache
            "export cold": ((), True),
            "export warm": ((), False),
            "export cold --loudness off": (off, True),
            "export warm --loudness off": (off, False),
        }
        if piper_installed():
            kinds["export cold --engine piper"] = (("--engine", "piper"), True)
            kinds["export warm --engine piper"] = (("--engine", "piper"), False)
        runs_s: dict[str, list[float]] = {name: [] for name in kinds}
        for run in range(self.runs):
            env = self.env
            for name, (options, fresh) in kinds.items():
                if fresh:
                    env = self.env_with_cache(self.fresh_folder("cache"))

                def command(out: Path, options: tuple[str, ...] = options) -> list[str]:
                    return [*LOOSEN, "export", session, "-o", str(out), *options]

                label = f"{session} {name} ({run + 1}/{self.runs})"
                runs_s[name].append(self.time_run_s(label, command, env))
        for name, values in runs_s.items():
            self.add(name, session, values)
        floors_s = self.median("speech floor", session) + self.median("write floor", session)
        for name in ("export cold", "export cold --loudness off"):
            self.add_ratio(name, session, floors_s, "(speech + write floor)")
        for name in ("export warm", "export warm --loudness off"):
            self.add_ratio(name, session, self.median("write floor", session), "write floor")

    def measure_handmade(self, session: str, plan: handmade.Plan) -> None:
        name = "hand-made pipeline (espeak-ng, sox)"
        missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
        if missing:
            self.skip(name, session, f"skipped: {' and '.join(missing)} missing")
            return
        runs_s = []
        for run in range(self.runs):
            work = self.fresh_folder("handmade")
            out = self.folder / f"{session}-handmade-{run}.wav"
            began_s = time.perf_counter()
            handmade.render(plan, work, out)
            runs_s.append(time.perf_counter() - began_s)
            self.say(f"{session} hand-made pipeline ({run + 1}/{self.runs}): {runs_s[-1]:.2f} s")
            if run == 0:
                self.check_length(out, plan.duration_s)
            shutil.rmtree(work)
            out.unlink()
        self.add(name, session, runs_s, note=f"{len(plan.texts)} lines, {len(plan.sounds)} sounds")
        self.add_ratio(name, session, self.median("export cold", session), "export cold")
        self.add_ratio(name, session, self.median("export cold --loudness off", session),
                       "export cold --loudness off")  # fmt: skip

    def measure_formats(self) -> None:
        """Each format's warm export of a 29-minute session against the WAV's, in turns."""
        env = self.env_with_cache(self.fresh_folder("cache"))
        script = long_scripts.write_script(
            self.folder / "thirty-minutes.toml", "Thirty minutes", groups=16, times=2
        )
        subject = f"29 min ({self.check_script(script, env)})"  # also fills the speech cache
        rounds: dict[str, list[tuple[float, int]]] = {name: [] for name in FORMAT_ROWS}
        for run in range(self.runs):
            for name, (extension, options, _) in FORMAT_ROWS.items():
                out = self.folder / f"formats{extension}"
                argv = [*LOOSEN, "export", str(script), "-o", str(out), *options]
                began_s = time.perf_counter()
                run_checked(f"{subject} {name}", argv, env)
                elapsed_s = time.perf_counter() - began_s
                rounds[name].append((elapsed_s, out.stat().st_size))
                out.unlink()
                self.say(f"{subject} {name} ({run + 1}/{self.runs}): {elapsed_s:.2f} s")
        length_s = seconds_of(subject.split("(")[1].rstrip(")"))
        for name, runs in rounds.items():
            reference = FORMAT_ROWS[name][2]
            wav_s = [elapsed_s for elapsed_s, _ in rounds[reference]]
            self.add(name, subject, [elapsed_s for elapsed_s, _ in runs])
            ratios = [elapsed_s / wav for (elapsed_s, _), wav in zip(runs, wav_s, strict=True)]
            kbps = runs[0][1] * 8 / length_s / 1000
            span = f"{min(ratios):.2f}-{max(ratios):.2f}"
            note = f"{statistics.median(ratios):.2f} x {reference[12:]} ({span}); {kbps:.0f} kbps"
            self.figures[(name, subject)] = dataclasses.replace(
                self.figures[(name, subject)], note=note
            )
            if name != reference:
                self.format_ratios[name] = statistics.median(ratios)
            self.say(f"{subject} {name}: {note}")

    def measure_tight(self, session: str) -> None:
        tight_floors.measure_tight(self, session)

    def measure_long(self) -> None:
        tight_floors.measure_long(self)

    def measure_memory(self) -> None:
        """Peak RSS of a warm export of a 10-minute and a 2-hour session."""
        name = "peak RSS, export warm"
        env = self.env_with_cache(self.fresh_folder("cache"))
        scripts = {
            "10 min": long_scripts.write_script(
                self.folder / "ten-minutes.toml", "Ten minutes", groups=9, times=1
            ),
            "2 h": long_scripts.write_script(
                self.folder / "two-hours.toml", "Two hours", groups=16, times=9
            ),
        }
        subjects = self.memory_subjects
        for label, script in scripts.items():
            length = self.check_script(script, env)  # also fills the speech cache: warm
            subjects[label] = f"{label} ({length})"
            values_mb = [self.peak_rss_mb(script, env, label, run) for run in range(self.runs)]
            self.add(name, subjects[label], values_mb, unit="MB")
        self.add_ratio(name, subjects["2 h"], self.median(name, subjects["10 min"]), "10 min")

    def measure_first_sound(self, session: str) -> None:
        variants = first_sound_variants()
        if not self.audio_server_runs():
            for options in variants:
                for state in ("cold", "warm"):
                    self.skip(first_sound_name(state, options), session, "skipped: no audio server")
            return
        self.say(f"{session} first sound: {self.runs} run(s) cold and warm, about 10 s each")
        for options in variants:
            medians = bench_first_sound.measure(session, self.runs, options)
            for state in ("cold", "warm"):
                name, started_s = first_sound_name(state, options), medians[state][0]
                figure = Figure(name, session, started_s, note="started")
                self.figures[(name, session)] = figure
                print_row(figure)
                self.say(f"{session} {name}: {started_s:.3f} s")

    def measure_help(self) -> None:
        def command(_out: Path) -> list[str]:
            return [*LOOSEN, "--help"]

        self.add("loosen --help", "-", self.time_runs_s("loosen --help", command, self.env))

    # --- running and timing --------------------------------------------------------------

    def time_runs_s(
        self, label: str, command: Callable[[Path], list[str]], env: Mapping[str, str]
    ) -> list[float]:
        """Wall seconds of ``self.runs`` runs of ``command(out)``, each with a new ``out``."""
        return [
            self.time_run_s(f"{label} ({run + 1}/{self.runs})", command, env)
            for run in range(self.runs)
        ]

    def time_run_s(
        self, label: str, command: Callable[[Path], list[str]], env: Mapping[str, str]
    ) -> float:
        """Wall seconds of one run of ``command(out)``; ``out`` is a new file, deleted after."""
        out = self.folder / f"out-{time.monotonic_ns()}.wav"
        argv = command(out)
        began_s = time.perf_counter()
        run_checked(label, argv, env)
        elapsed_s = time.perf_counter() - began_s
        out.unlink(missing_ok=True)
        self.say(f"{label}: {elapsed_s:.2f} s")
        return elapsed_s

    def peak_rss_mb(self, script: Path, env: Mapping[str, str], label: str, run: int) -> float:
        """Peak RSS of one `loosen export` of ``script``, from a fresh wrapper process."""
        out = self.folder / f"{script.stem}-{run}.wav"
        command = [*LOOSEN, "export", str(script), "-o", str(out)]
        result = run_checked(
            f"{label} export warm", [sys.executable, "-c", PEAK_RSS_PY, *command], env
        )
        out.unlink()
        peak_mb = int(result.stdout.split()[-1]) / 1024  # ru_maxrss is in KB on Linux
        self.say(f"{label} export warm ({run + 1}/{self.runs}): peak RSS {peak_mb:.1f} MB")
        return peak_mb

    def show_timeline(self, session: str) -> dict[str, Any]:
        """The session's timeline (`loosen show --json`), with a cache of its own."""
        self.say(f"{session}: reading the timeline")
        env = self.env_with_cache(self.fresh_folder("cache"))
        result = run_checked(f"{session} timeline", [*LOOSEN, "show", session, "--json"], env)
        timeline: dict[str, Any] = json.loads(result.stdout)
        return timeline

    def check_script(self, script: Path, env: Mapping[str, str]) -> str:
        """Validate a generated script with `loosen check`; return its length (``h:mm:ss``)."""
        # `loosen check` prints "SCRIPT: ok, N steps, MM:SS" (minutes beyond 59 included)
        self.say(f"checking {script.name} (and filling its speech cache)")
        result = run_checked(f"loosen check {script.name}", [*LOOSEN, "check", str(script)], env)
        return clock(seconds_of(result.stdout.strip().rsplit(", ", 1)[-1]))

    def check_length(self, out: Path, duration_s: float) -> None:
        info = soundfile.info(str(out))
        length_s = info.frames / info.samplerate
        if abs(length_s - duration_s) > LENGTH_TOLERANCE_S:
            self.say(f"WARNING: the hand-made file lasts {length_s:.2f} s, not {duration_s:.2f} s")
        else:
            self.say(f"hand-made file: {length_s:.3f} s, the session {duration_s:.3f} s: ok")

    @staticmethod
    def audio_server_runs() -> bool:
        if shutil.which("pactl") is None:
            return False
        return subprocess.run(["pactl", "info"], capture_output=True, check=False).returncode == 0

    # --- environment and bookkeeping -----------------------------------------------------

    def prepare_environment(self) -> dict[str, str]:
        """The environment of every command: an absolute PYTHONPATH, bytecode allowed, and
        private loosen folders. Also set in ``os.environ``, which bench_first_sound uses."""
        for name in ("LOOSEN_SOUNDS_DIR", "LOOSEN_SCRIPTS_DIR"):
            os.environ[name] = str(self.fresh_folder(name.lower()))
        paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        if paths:
            os.environ["PYTHONPATH"] = os.pathsep.join(str(Path(p).resolve()) for p in paths)
        env = self.env_with_cache(self.fresh_folder("cache"), dict(os.environ))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.compile_loosen(env)
        return env

    def compile_loosen(self, env: Mapping[str, str]) -> None:
        """Write loosen's bytecode now, so that no timed run pays for compiling."""
        self.say("compiling loosen's bytecode")
        find = "import loosen, pathlib; print(pathlib.Path(loosen.__file__).parent)"
        found = subprocess.run(
            [sys.executable, "-c", find], env=env, capture_output=True, text=True, check=True
        )
        package = found.stdout.strip()
        subprocess.run([sys.executable, "-m", "compileall", "-q", package], env=env, check=True)

    def env_with_cache(self, cache: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
        env = dict(self.env if base is None else base)
        env["LOOSEN_CACHE_DIR"] = str(cache)
        env["LOOSEN_STATE_DIR"] = str(cache)
        return env

    def fresh_folder(self, prefix: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=self.folder))

    def add(
        self, name: str, subject: str, values: Sequence[float], unit: str = "s", note: str = ""
    ) -> None:
        spread = max(values) - min(values) if len(values) > 1 else None
        median = statistics.median(values)
        self.figures[(name, subject)] = figure = Figure(name, subject, median, unit, spread, note)
        print_row(figure)  # at once: a failure later in the run loses nothing

    def skip(self, name: str, subject: str, why: str) -> None:
        self.figures[(name, subject)] = Figure(name, subject, None, note=why)
        self.say(f"{name} {subject}: {why}")

    def add_ratio(self, name: str, subject: str, reference: float, label: str) -> None:
        """Note on the figure (name, subject) its ratio to ``reference``, called ``label``."""
        figure = self.figures[(name, subject)]
        if figure.median is None or math.isnan(reference) or not reference:
            return
        ratio = f"{figure.median / reference:.2f} x {label}"
        note = f"{ratio}; {figure.note}" if figure.note else ratio
        self.figures[(name, subject)] = dataclasses.replace(figure, note=note)

    def median(self, name: str, subject: str) -> float:
        figure = self.figures.get((name, subject))
        return figure.median if figure and figure.median is not None else float("nan")

    def say(self, message: str) -> None:
        elapsed_s = time.perf_counter() - self.began_s
        print(f"[{elapsed_s:6.1f} s] {message}", file=sys.stderr, flush=True)


def piper_installed() -> bool:
    """Whether the neural extra is installed, for the Piper rows."""
    import importlib.util

    return importlib.util.find_spec("piper") is not None


def run_checked(
    label: str, command: Sequence[str], env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run ``command``, its output captured; a failure raises with its stderr."""
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{label}: exit {result.returncode}\n{result.stderr or result.stdout}")
    return result


def code_version() -> str:
    """The commit measured, and whether src/ has changes not committed."""
    git = ["git", "-C", str(REPO)]
    commit = _output([*git, "rev-parse", "--short", "HEAD"]) or "unknown commit"
    dirty = " + changes in src/ not committed" if _output([*git, "status", "-s", "src"]) else ""
    return commit + dirty


def source_fingerprint() -> str:
    """A digest of every Python file under src/, to tell whether the code changed during the run
    (the package may be edited while the bench runs)."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "src").rglob("*.py")):
        digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def _output(command: Sequence[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()


def clock(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on."""
    minutes, second = divmod(round(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02}:{second:02}" if hours else f"{minute}:{second:02}"


def seconds_of(clock_text: str) -> float:
    """Seconds of ``"m:ss"`` or ``"h:mm:ss"``."""
    seconds = 0.0
    for part in clock_text.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def targets_of(bench: Bench, sessions: Sequence[str]) -> list[Target]:
    """Every target, with the measured ratio or figure it is judged on."""

    def ratio(name: str, subject: str, reference: float) -> float | None:
        value = bench.median(name, subject) / reference
        return None if math.isnan(value) else value  # NaN: a figure was skipped

    def figure(name: str, subject: str) -> float | None:
        return ratio(name, subject, 1.0)

    found: list[Target] = []
    for session in sessions:
        floors_s = bench.median("speech floor", session) + bench.median("write floor", session)
        write_s = bench.median("write floor", session)
        for variant in ("", " --loudness off"):
            found += [
                Target(f"cold export{variant} <= 1.3 x (speech + write floor)", session,
                       ratio(f"export cold{variant}", session, floors_s), 1.3, "x"),
                Target(f"warm export{variant} <= 1.2 x write floor", session,
                       ratio(f"export warm{variant}", session, write_s), 1.2, "x"),
                Target(f"hand-made pipeline / cold export{variant} >= 2", session,
                       ratio("hand-made pipeline (espeak-ng, sox)", session,
                             bench.median(f"export cold{variant}", session)),
                       2.0, "x", at_least=True),
            ]  # fmt: skip
    for name, measured in bench.format_ratios.items():
        reference = FORMAT_ROWS[name][2][12:]  # ".wav", ".wav, ambience"
        found.append(Target(f"{name[12:]} <= 2 x {reference}", "29 min", measured, 2.0, "x"))
    rss = "peak RSS, export warm"
    ten, two = (bench.memory_subjects.get(label, "") for label in ("10 min", "2 h"))
    found += [
        Target("peak RSS 2 h <= 1.25 x 10 min", "",
               ratio(rss, two, bench.median(rss, ten)), 1.25, "x"),
        Target("peak RSS 2 h < 200 MB", "", figure(rss, two), 200.0, "MB"),
    ]  # fmt: skip
    for session in sessions:
        for options in first_sound_variants():
            engine = ", piper" if options else ""
            found += [
                Target(f"first sound warm <= 0.25 s{engine}", session,
                       figure(first_sound_name("warm", options), session), 0.25, "s"),
                Target(f"first sound cold <= 1 s{engine}", session,
                       figure(first_sound_name("cold", options), session), 1.0, "s"),
            ]  # fmt: skip
    found.append(Target("loosen --help <= 0.15 s", "", figure("loosen --help", "-"), 0.15, "s"))
    for row in bench.pair_rows:
        found.append(Target(row.name, "pairs", row.ratio, row.limit, "x"))
    return found


def first_sound_variants() -> list[tuple[str, ...]]:
    """The `loosen play` options whose first sound is timed: the default engine, and Piper."""
    return [(), *((("--engine", "piper"),) if piper_installed() else ())]


def first_sound_name(state: str, options: tuple[str, ...]) -> str:
    """``"first sound cold (loosen play)"``, ``"... (loosen play --engine piper)"``."""
    return f"first sound {state} ({' '.join(['loosen play', *options])})"


def print_table(bench: Bench, runs: int, took_s: float) -> None:
    print(f"loosen speed and memory: median of {runs} run(s), spread = max - min")
    print(f"measured in {took_s:.0f} s, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"code: {bench.version}, src/ fingerprint {bench.fingerprints[0]}")
    if len(set(bench.fingerprints)) > 1:
        print(f"WARNING: src/ changed during the run (at the end: {bench.fingerprints[-1]})")
    for session, description in bench.sessions.items():
        print(f"  {session}: {description}")
    print()
    print(f"{'figure':<36} {'subject':<18} {'median':>10} {'spread':>8}  ratio / note")
    for figure in bench.figures.values():
        print_row(figure)
    if bench.pair_rows:
        print()
        print("against tight floors, in pairs A B A B (median ratio and its range)")
        for row in bench.pair_rows:
            print(row.line())


def print_row(figure: Figure) -> None:
    if figure.median is None:
        print(f"{figure.name:<36} {figure.subject:<18} {figure.note}", flush=True)
        return
    decimals = 1 if figure.unit == "MB" else 3
    median = f"{figure.median:.{decimals}f} {figure.unit}"
    spread = "-" if figure.spread is None else f"{figure.spread:.{decimals}f}"
    print(f"{figure.name:<36} {figure.subject:<18} {median:>10} {spread:>8}  {figure.note}",
          flush=True)  # fmt: skip


def print_targets(targets: Sequence[Target]) -> None:
    print()
    print("targets")
    for target in targets:
        measured = "-" if target.measured is None else f"{target.measured:.2f} {target.unit}"
        print(f"  {target.name:<58} {target.subject:<16} {measured:>9}  {target.verdict}")


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median; default 3)")
    parser.add_argument(
        "--quick", action="store_true", help="one run per figure, back-loosening only"
    )
    parser.add_argument("--formats", action="store_true", help="the formats' rows alone")
    parser.add_argument(
        "--tight", action="store_true",
        help="issue 18's rows alone: tight floors in pairs, 8 h / 2 h, --help, first sound",
    )  # fmt: skip
    arguments = parser.parse_args(argv)
    if arguments.runs < 1:
        parser.error("--runs must be at least 1")
    return arguments


def main(argv: Sequence[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    runs = 1 if arguments.quick else arguments.runs
    sessions = SESSIONS[:1] if arguments.quick else SESSIONS
    with tempfile.TemporaryDirectory(prefix="loosen-bench-") as folder:
        bench = Bench(runs, Path(folder))
        if arguments.formats:
            bench.measure_formats()
            sessions = ()
        elif arguments.tight:
            sessions = SESSIONS[:1]
            bench.measure_tight(sessions[0])
            bench.measure_long()
            bench.measure_help()
            bench.measure_first_sound(sessions[0])
        else:
            for session in sessions:
                bench.measure_session(session)
                bench.measure_tight(session)
            bench.measure_formats()
            bench.measure_long()
            bench.measure_memory()
            for session in sessions:
                bench.measure_first_sound(session)
            bench.measure_help()
        took_s = time.perf_counter() - bench.began_s
        bench.fingerprints.append(source_fingerprint())
    print_table(bench, runs, took_s)
    targets = targets_of(bench, sessions)
    if arguments.tight:  # the rows of the issue 15 targets were not measured
        targets = [t for t in targets if t.measured is not None]
    print_targets(targets)


if __name__ == "__main__":
    main()
