"""Scripts are data: nothing in one runs code or writes outside the output the user named."""

import re
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).parent.parent.parent / "src" / "loosen"

HOSTILE = """\
title = "Hostile"
[[steps]]
kind = "say"
name = "../../outside"
text = "One."
[[steps]]
kind = "say"
name = "/etc/passwd"
text = "Two."
[[steps]]
kind = "say"
name = ".."
text = "Three."
[[steps]]
kind = "say"
name = "C:\\\\Windows\\\\x"
text = "Four."
"""


def test_no_module_evaluates_or_imports_anything_a_script_could_name() -> None:
    dangerous = re.compile(r"(?<![.\w])(eval|exec|compile|__import__)\(|import_module\(|pickle\.")
    found = [
        f"{path.relative_to(SRC)}: {line.strip()}"
        for path in sorted(SRC.rglob("*.py"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if dangerous.search(line)
    ]
    # the packages' lazy attributes import from their own fixed tables of module names
    assert found == [
        "__init__.py: return getattr(importlib.import_module(module), name)",
        "tts/__init__.py: value = getattr(importlib.import_module(module), name)",
    ]


def test_step_names_cannot_steer_split_files_out_of_the_folder(tmp_path: Path) -> None:
    script = tmp_path / "hostile.toml"
    script.write_text(HOSTILE, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    folder = work / "parts"
    done = subprocess.run(
        [sys.executable, "-m", "loosen", "export", str(script), "--split", "-o", str(folder),
         "--loudness", "off", "--engine", "espeak"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    parts = [name for name in written if name.startswith("work/parts/")]
    assert len(parts) == 4
    assert written == sorted(["hostile.toml", "work", "work/parts", *parts])
    assert all("/" not in name.removeprefix("work/parts/") for name in parts)
