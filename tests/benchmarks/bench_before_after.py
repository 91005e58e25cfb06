"""Warm (or, with ``--cold``, cold) exports of two trees of loosen taking turns (before,
after, before, after, ...), the ratio per pair, median and range: a change's cost measured in
one run, machine noise shared.

Run: python tests/benchmarks/bench_before_after.py [--pairs N] [--session NAME] BEFORE_TREE
     AFTER_TREE [-- EXPORT OPTIONS...]   (the options last: all after the trees is for export)

Each tree is a checkout whose ``src`` is put first on PYTHONPATH; each has a speech cache of
its own, filled by one untimed export first (``--cold``: emptied before every export).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def export_s(tree: Path, session: str, options: list[str], cache: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "LOOSEN_CACHE_DIR": str(cache),
           "LOOSEN_STATE_DIR": str(cache)}  # fmt: skip
    command = [sys.executable, "-m", "loosen", "export", session, "-o", str(cache / "out.wav")]
    began = time.perf_counter()
    subprocess.run([*command, *options], env=env, check=True, capture_output=True)
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--pairs", type=int, default=11)
    parser.add_argument("--session", default="back-loosening")
    parser.add_argument("--cold", action="store_true", help="a fresh speech cache every time")
    parser.add_argument("options", nargs=argparse.REMAINDER, help="export options (after --)")
    args = parser.parse_args(argv)
    args.options = args.options[1:] if args.options[:1] == ["--"] else args.options
    with tempfile.TemporaryDirectory() as folder:
        caches = {tree: Path(folder) / name for tree, name in
                  ((args.before, "before"), (args.after, "after"))}  # fmt: skip
        for tree, cache in caches.items():
            cache.mkdir()
            export_s(tree, args.session, args.options, cache)  # untimed: cache, bytecode
        before_s, after_s, ratios = [], [], []
        for _ in range(args.pairs):
            for cache in caches.values() if args.cold else ():
                shutil.rmtree(cache)
                cache.mkdir()
            a = export_s(args.before, args.session, args.options, caches[args.before])
            b = export_s(args.after, args.session, args.options, caches[args.after])
            before_s.append(a)
            after_s.append(b)
            ratios.append(b / a)
    print(
        f"{args.session} {'cold' if args.cold else 'warm'} "
        f"{' '.join(args.options) or '(defaults)'}: before "
        f"{statistics.median(before_s):.2f} s, after {statistics.median(after_s):.2f} s, "
        f"after/before {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
    )


if __name__ == "__main__":
    main()
