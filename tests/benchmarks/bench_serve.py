"""How fast `loosen serve` answers: a cached session's page until it can play (in headless
Chromium), the first audio byte of a rendering not yet made (a pace never asked for, its speech
in the speech cache), and requests per second for the feed and for Range reads of the audio
(four client threads on keep-alive connections, the standard library's HTTP client).

    PYTHONPATH=src python tests/benchmarks/bench_serve.py [--session back-loosening] [--runs 5]

Prints each row as it is measured. Nothing here waits a fixed time: each step waits for what it
needs (the address printed, a rendering ready, the page's play button enabled).
"""

import argparse
import http.client
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.serve.browser import chromium  # noqa: E402
from tests.serve.serving import serving  # noqa: E402

CLIENTS = 4
REQUESTS_PER_CLIENT = 250
RANGE_BYTES = 64 * 1024


def row(name: str, values: list[float], unit: str) -> None:
    median = statistics.median(values)
    spread = f"{min(values):.3g}-{max(values):.3g}" if len(values) > 1 else ""
    print(f"{name:<58} {median:>10.3g} {unit:<6} {spread}", flush=True)


def per_second(port: int, paths: list[str], headers: dict[str, str] | None = None) -> float:
    """Requests per second over ``CLIENTS`` keep-alive connections asking for ``paths``."""
    done = [0]
    lock = threading.Lock()

    def client(seed: int) -> None:
        chooser = random.Random(seed)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(REQUESTS_PER_CLIENT):
            path = chooser.choice(paths)
            asked = dict(headers or {})
            if "Range" in asked:
                start = chooser.randrange(0, int(asked["Range"]))
                asked["Range"] = f"bytes={start}-{start + RANGE_BYTES - 1}"
            connection.request("GET", path, headers=asked)
            response = connection.getresponse()
            response.read()
            assert response.status in (200, 206), response.status
            with lock:
                done[0] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0] / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--session", default="back-loosening")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engine", default="pyttsx3")
    args = parser.parse_args()
    cache = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    name = args.session
    with serving([name], cache=cache, engine=args.engine) as served:
        started = time.perf_counter()
        document = served.ready(name)
        row(
            f"first rendering of {name} (cold speech), to ready",
            [time.perf_counter() - started],
            "s",
        )
        firsts = []
        for run in range(args.runs):
            pace = f"{1.01 + 0.01 * run:g}"  # never asked before: a new rendering
            started = time.perf_counter()
            ready = served.ready(name, f"?pace={pace}")
            connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=60)
            connection.request("GET", str(ready["audio"]), headers={"Range": "bytes=0-1"})
            connection.getresponse().read(1)
            firsts.append(time.perf_counter() - started)
            connection.close()
        row(f"first audio byte, a new pace of {name} (speech cached)", firsts, "s")
        with chromium() as driver:
            interactive = []
            for _ in range(args.runs):
                driver.get("about:blank")
                driver.get(served.url + f"session/{name}")
                from selenium.webdriver.support.ui import WebDriverWait

                WebDriverWait(driver, 60, poll_frequency=0.01).until(
                    lambda d: d.execute_script("return !document.getElementById('play').disabled")
                )
                interactive.append(
                    driver.execute_script("return performance.now()") / 1000.0
                )  # from the navigation's start to play enabled (the poll adds up to 10 ms)
            row(f"session page until it can play ({name}, cached)", interactive, "s")
        audio = str(document["audio"])
        size = int(served.request(audio, method="HEAD", root="")[1]["content-length"])
        feeds = [per_second(served.port, ["/feed.xml"]) for _ in range(3)]
        row(f"feed requests/s ({CLIENTS} clients)", feeds, "req/s")
        ranges = [
            per_second(served.port, [audio], {"Range": str(size - RANGE_BYTES)}) for _ in range(3)
        ]
        row(f"Range reads of 64 KiB/s ({CLIENTS} clients)", ranges, "req/s")
        lists = [per_second(served.port, ["/api/sessions"]) for _ in range(3)]
        row(f"session list requests/s ({CLIENTS} clients)", lists, "req/s")


if __name__ == "__main__":
    main()
