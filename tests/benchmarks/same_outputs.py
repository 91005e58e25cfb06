"""The proof that a change of the code's shape changed nothing the user gets: the exported bytes
(WAV and FLAC; the decoded samples of OGG and MP3, whose encoders may be rebuilt) and the
`show --json` timelines of every bundled session, by default, paced with an ambience in mono,
and without loudness normalisation.

    PYTHONPATH=src python tests/benchmarks/same_outputs.py record before.json
    ... change the code ...
    PYTHONPATH=src python tests/benchmarks/same_outputs.py check before.json

`check` prints every output that differs and exits 1 if any does. Each run uses one speech
cache of its own (cold, then warm for the later variants), so cold speech is covered too.
Not part of the test run: it exports every session several times (minutes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SESSIONS = ("back-loosening", "pmr-16", "pmr-7", "pmr-4", "stretch-quick")
VARIANTS: dict[str, list[str]] = {
    "default": [],
    "paced-surf-mono": ["--pace", "1.3", "--ambience", "surf", "--channels", "1"],
    "loudness-off": ["--loudness", "off"],
}
FORMATS = (".wav", ".flac", ".ogg", ".mp3")


def loosen(*args: str, cache: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "loosen", *args],
        capture_output=True, text=True, check=False,
        env={**os.environ, "LOOSEN_CACHE_DIR": str(cache)},
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"loosen {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def digest(path: Path) -> str:
    """The file's bytes for lossless formats; its decoded samples (16-bit) for lossy ones."""
    if path.suffix in (".wav", ".flac"):
        return hashlib.sha256(path.read_bytes()).hexdigest()
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return hashlib.sha256(decoded).hexdigest()


def outputs() -> dict[str, str]:
    found: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="loosen-same-") as folder:
        root = Path(folder)
        cache = root / "cache"
        for session in SESSIONS:
            for variant, options in VARIANTS.items():
                pacing = [o for o in options if o in ("--pace", "1.3")]  # what show takes
                shown = loosen("show", session, "--json", *pacing, cache=cache)
                found[f"{session} {variant} show"] = hashlib.sha256(shown.encode()).hexdigest()
                for extension in FORMATS:
                    out = root / f"{session}-{variant}{extension}"
                    loosen("export", session, "-o", str(out), *options, cache=cache)
                    found[f"{session} {variant} {extension}"] = digest(out)
                    out.unlink()
                print(f"{session} {variant}: done", flush=True)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("record", "check"))
    parser.add_argument("file", type=Path)
    options = parser.parse_args()
    now = outputs()
    if options.action == "record":
        options.file.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        print(f"recorded {len(now)} outputs in {options.file}")
        return 0
    before = json.loads(options.file.read_text())
    differ = sorted(
        name for name in before.keys() | now.keys() if before.get(name) != now.get(name)
    )
    for name in differ:
        print(f"differs: {name}")
    print(f"{len(before) - len(differ)} of {len(before)} outputs are the same")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
