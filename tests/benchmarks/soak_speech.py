"""Soak test of cold speech: many cold exports of a bundled session, each with a cache of its
own, some one after another and some two at a time (the machine busy), then every file compared
with the first. A clip spoken at a lost rate, a lost or doubled text, or a clip that depends on
what else was spoken would show as a file that differs.

    PYTHONPATH=src python tests/benchmarks/soak_speech.py [--runs 24] [--session back-loosening]

Not part of the test run (it takes minutes). Prints one line per export and a summary; exits 1
if any export failed or differs.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def export(session: str, out: Path, cache: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "loosen", "export", session, "-o", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "LOOSEN_CACHE_DIR": str(cache)},
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=24)
    parser.add_argument("--session", default="back-loosening")
    options = parser.parse_args()
    digests: dict[str, str] = {}
    failures = 0
    with tempfile.TemporaryDirectory(prefix="loosen-soak-") as folder:
        root = Path(folder)
        run = 0
        while run < options.runs:
            # alternately one export alone, and two at once (each loads the other's cores)
            batch = 1 if run % 3 == 0 else 2
            started = time.monotonic()
            jobs = []
            for n in range(run, min(run + batch, options.runs)):
                out = root / f"{n:03d}.wav"
                jobs.append((n, out, export(options.session, out, root / f"cache-{n}")))
            for n, out, job in jobs:
                _, err = job.communicate()
                if job.returncode != 0:
                    failures += 1
                    print(f"run {n}: exit {job.returncode}: {err.decode().strip()[:200]}")
                    continue
                digest = hashlib.sha256(out.read_bytes()).hexdigest()
                digests[f"{n:03d}"] = digest
                out.unlink()
                print(f"run {n}: {digest[:12]} ({'alone' if batch == 1 else 'two at once'}, "
                      f"{time.monotonic() - started:.1f} s)", flush=True)  # fmt: skip
            run += batch
    distinct = set(digests.values())
    print(f"{len(digests)} exports, {failures} failed, {len(distinct)} distinct file(s)")
    return 0 if failures == 0 and len(distinct) <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
