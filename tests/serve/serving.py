"""`loosen serve` as a user starts it, for the tests: the real command in its own process, the
address read from what it prints, HTTP through the standard library's client."""

import contextlib
import http.client
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
DATA = HERE.parent / "data"
STARTED_S = 60.0  # at most, for the command to print its address (a cold start imports a lot)
RENDERED_S = 180.0  # at most, for a session to be rendered


@dataclass
class Served:
    """A running `loosen serve`: its process, the URL it printed and everything it printed."""

    process: subprocess.Popen[str]
    url: str
    printed: list[str] = field(default_factory=list)

    @property
    def host(self) -> str:
        return str(urllib.parse.urlsplit(self.url).hostname)

    @property
    def port(self) -> int:
        return int(urllib.parse.urlsplit(self.url).port or 80)

    @property
    def root(self) -> str:
        """The path every URL begins with: ``/TOKEN`` on the network, else empty."""
        return urllib.parse.urlsplit(self.url).path.rstrip("/")

    def request(
        self, path: str, *, method: str = "GET", headers: dict[str, str] | None = None,
        root: str | None = None,
    ) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
        """``method`` ``path`` (under the root unless ``root`` is given): status, headers
        (lower-case names) and body."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            prefix = self.root if root is None else root
            connection.request(method, prefix + path, headers=headers or {})
            response = connection.getresponse()
            body = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, body
        finally:
            connection.close()

    def json(self, path: str) -> tuple[int, object]:
        status, _, body = self.request(path)
        return status, json.loads(body)

    def ready(self, name: str, query: str = "") -> dict[str, object]:
        """Ask for the session ``name`` until its rendering is ready; its player document."""
        deadline = time.monotonic() + RENDERED_S
        waiting = f"{query}&wait=1" if query else "?wait=1"  # held until made, or a second
        while True:
            status, document = self.json(f"/api/sessions/{name}{waiting}")
            assert isinstance(document, dict)
            if status == 200:
                return document
            assert status == 202, (status, document)
            assert time.monotonic() < deadline, f"{name} was not rendered in {RENDERED_S} s"


def _read_lines(stream: object, lines: "queue.Queue[str | None]") -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line.rstrip("\n"))
    lines.put(None)


@contextlib.contextmanager
def serving(
    scripts: Sequence[str], *options: str, env: dict[str, str] | None = None,
    cache: Path | None = None, port: str | None = "0", engine: str = "espeak",
) -> Iterator[Served]:  # fmt: skip
    """Run ``loosen serve SCRIPTS --port PORT --engine ENGINE OPTIONS`` until the block ends,
    then stop it with Ctrl+C (SIGINT) and reap it. ``cache``: its ``LOOSEN_CACHE_DIR``;
    ``port`` None: none asked for (the default)."""
    environment = dict(os.environ, **(env or {}))
    if cache is not None:
        environment["LOOSEN_CACHE_DIR"] = str(cache)
    command = [sys.executable, "-m", "loosen", "serve", *scripts]
    if port is not None:
        command += ["--port", port]
    command += ["--engine", engine, *options]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment
    )
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True)
    reader.start()
    printed: list[str] = []
    try:
        url = None
        deadline = time.monotonic() + STARTED_S
        while url is None or not printed[-1].startswith("Press Ctrl+C"):
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.1))
            assert line is not None, "loosen serve ended:\n" + "\n".join(printed)
            printed.append(line)
            found = re.search(r"http://\S+/", line)
            if found and url is None:
                url = found.group(0)
        served = Served(process, url, printed)
        threading.Thread(target=_keep, args=(lines, printed), daemon=True).start()
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


def _keep(lines: "queue.Queue[str | None]", printed: list[str]) -> None:
    while (line := lines.get()) is not None:
        printed.append(line)


def run_loosen(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``loosen ARGS`` to its end."""
    environment = dict(os.environ, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "loosen", *args], capture_output=True, text=True, env=environment,
        timeout=300, check=False,
    )  # fmt: skip
