"""`loosen serve` as a phone meets it: where it listens, the token, the renderings on demand,
Range and conditional requests, many downloads at once, and stopping."""

import contextlib
import hashlib
import http.client
import itertools
import os
import shutil
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
from tests.serve.serving import DATA, RENDERED_S, run_loosen, serving
from tests.tools import require_module

require_module("starlette")
require_module("uvicorn")
require_module("segno")

TINY = str(DATA / "tiny.toml")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of renderings for the module: a session is rendered once, then served."""
    return tmp_path_factory.mktemp("served")


def listening_addresses(port: int) -> set[str]:
    """The local addresses that listen on ``port`` (Linux's /proc/net/tcp, in hex)."""
    found = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        if not table.exists():
            continue
        with table.open(encoding="ascii") as handle:
            for row in list(handle)[1:]:
                local, state = row.split()[1], row.split()[3]
                address, hex_port = local.split(":")
                if int(hex_port, 16) == port and state == "0A":  # LISTEN
                    found.add(address)
    return found


def test_it_listens_on_this_computer_only_by_default(cache: Path) -> None:
    with serving([TINY], cache=cache) as served:
        assert served.host == "127.0.0.1"
        assert listening_addresses(served.port) == {"0100007F"}  # 127.0.0.1
        assert any("this computer only" in line for line in served.printed)
        assert any(line.strip().endswith("/feed.xml") for line in served.printed)
        status, sessions = served.json("/api/sessions")
        assert status == 200 and isinstance(sessions, list)
        assert [s["title"] for s in sessions] == ["Tiny"]


def test_a_page_that_names_another_host_gets_nothing_from_a_local_server(cache: Path) -> None:
    with serving([TINY], cache=cache) as served:
        for host in ("evil.example", "evil.example:80", "127.0.0.1.evil.example", "[::1]evil"):
            status, _, body = served.request("/api/sessions", headers={"Host": host})
            assert status == 403, host
            assert b"localhost only" in body
        status, _, _ = served.request("/api/sessions", headers={"Host": f"localhost:{served.port}"})
        assert status == 200


def test_on_the_network_every_address_needs_the_token(cache: Path) -> None:
    with serving([TINY], "--lan", cache=cache) as served:
        token = served.root.strip("/")
        assert len(token) >= 22
        assert listening_addresses(served.port) == {"00000000"}  # 0.0.0.0
        assert any("secret token" in line for line in served.printed)
        for root in ("", "/" + "x" * len(token), "/" + token[:-1], "/" + token + "x"):
            for path in ("/", "/api/sessions", "/feed.xml", "/static/app.js"):
                status, _, _ = served.request(path, root=root)
                assert status == 403, (root, path)
        status, headers, _ = served.request("/api/sessions")
        assert status == 200
        assert headers["referrer-policy"] == "no-referrer"  # no link followed tells the token
        status, _, _ = served.request("/static/app.js")
        assert status == 200
        status, headers, _ = served.request("", root=served.root)  # the token, no slash
        assert status == 308 and headers["location"] == served.root + "/"


def test_the_qr_code_printed_holds_the_address_with_its_token(cache: Path) -> None:
    from loosen.serve import qr_code

    with serving([TINY], "--lan", cache=cache) as served:
        drawn = qr_code(served.url).splitlines()
        text = "\n".join(served.printed)
        assert "\n".join(drawn) in text
        assert max(len(row) for row in drawn) <= 41  # fits a narrow terminal


def test_a_session_is_rendered_on_demand_then_served_from_the_cache(tmp_path: Path) -> None:
    with serving([TINY], cache=tmp_path) as served:
        status, first = served.json("/api/sessions/tiny")
        assert status in (200, 202)
        if status == 202:
            assert isinstance(first, dict) and first["state"] == "rendering"
        document = served.ready("tiny")
    folder = tmp_path / "served"
    key = Path(str(document["audio"])).stem
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{key}.mp3", f"{key}.json", f"{key}.chapters.json"]
    )
    with serving([TINY], cache=tmp_path) as served:
        status, again = served.json("/api/sessions/tiny")
        assert status == 200 and isinstance(again, dict)
        assert again["audio"] == document["audio"]


def test_the_player_document_gives_every_step_its_times_and_words(cache: Path) -> None:
    with serving([TINY], cache=cache) as served:
        document = served.ready("tiny")
    steps = document["steps"]
    assert isinstance(steps, list)
    assert [s["title"] for s in steps] == [
        "welcome", "reach (right)", "reach (left)", "taps", "breath", "hands",
    ]  # fmt: skip
    assert steps[0]["start_s"] == 0
    for before, after in itertools.pairwise(steps):
        assert before["end_s"] == after["start_s"]
    assert steps[1]["lines"][0] == "Reach right."
    assert "Other side." in steps[2]["lines"] and "Reach left." in steps[2]["lines"]
    assert abs(steps[-1]["end_s"] - float(str(document["duration_s"]))) < 0.001


def test_a_pace_is_a_new_rendering_of_the_same_words(cache: Path) -> None:
    with serving([TINY], cache=cache) as served:
        standard = served.ready("tiny")
        gentle = served.ready("tiny", "?pace=gentle")
        assert served.ready("tiny", "?pace=standard")["audio"] == standard["audio"]
        status, refused = served.json("/api/sessions/tiny?pace=sprint")
        assert status == 400 and isinstance(refused, dict)
        assert refused["message"] == "no pace called 'sprint'"
        status, _ = served.json("/api/sessions/tiny?voice=klingon")
        assert status == 400
        status, _ = served.json("/api/sessions/nothing-here")
        assert status == 404
    assert gentle["audio"] != standard["audio"]
    assert float(str(gentle["duration_s"])) > float(str(standard["duration_s"]))
    words = [line for step in standard["steps"] for line in step["lines"]]  # type: ignore[attr-defined]
    assert [line for step in gentle["steps"] for line in step["lines"]] == words  # type: ignore[attr-defined]


def test_range_requests_give_the_bytes_asked_for(cache: Path) -> None:
    with serving([TINY], cache=cache) as served:
        audio = str(served.ready("tiny")["audio"])
        status, headers, whole = served.request(audio, root="")
        assert status == 200 and headers["accept-ranges"] == "bytes"
        assert headers["content-type"] == "audio/mpeg"
        size = len(whole)
        cases = {
            "bytes=0-0": (0, 1),  # what Safari asks first
            "bytes=0-1": (0, 2),
            f"bytes={size // 2}-{size // 2 + 999}": (size // 2, size // 2 + 1000),
            "bytes=-500": (size - 500, size),
            f"bytes={size - 10}-": (size - 10, size),
            f"bytes=100-{size * 2}": (100, size),
        }
        for asked, (start, end) in cases.items():
            status, headers, body = served.request(audio, root="", headers={"Range": asked})
            assert status == 206, asked
            assert headers["content-range"] == f"bytes {start}-{end - 1}/{size}", asked
            assert body == whole[start:end], asked
        for bad in (f"bytes={size}-", f"bytes={size + 5}-{size + 9}"):
            status, headers, _ = served.request(audio, root="", headers={"Range": bad})
            assert status == 416, bad
            assert headers["content-range"] == f"bytes */{size}"


def test_a_rendering_answers_conditional_requests_with_its_etag(cache: Path) -> None:
    with serving([TINY], cache=cache) as served:
        document = served.ready("tiny")
        for path in (str(document["audio"]), str(document["chapters"])):
            status, headers, _ = served.request(path, root="")
            etag = headers["etag"]
            assert (
                status == 200 and etag.startswith('"') and "immutable" in headers["cache-control"]
            )
            status, headers, body = served.request(path, root="", headers={"If-None-Match": etag})
            assert status == 304 and body == b"" and headers["etag"] == etag
            status, _, _ = served.request(path, root="", headers={"If-None-Match": '"other"'})
            assert status == 200
            status, headers, body = served.request(path, method="HEAD", root="")
            assert status == 200 and body == b"" and int(headers["content-length"]) > 0
        status, headers, _ = served.request("/feed.xml")
        status, _, _ = served.request("/feed.xml", headers={"If-None-Match": headers["etag"]})
        assert status == 304


@pytest.mark.slow
def test_twenty_parallel_downloads_of_a_long_session_are_each_the_export(
    cache: Path, tmp_path: Path
) -> None:
    with serving(["back-loosening"], cache=cache) as served:
        audio = str(served.ready("back-loosening")["audio"])
        results: list[bytes] = []
        failures: list[BaseException] = []

        def download() -> None:
            try:
                results.append(served.request(audio, root="")[2])
            except BaseException as error:
                failures.append(error)

        threads = [threading.Thread(target=download) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    assert not failures
    exported = tmp_path / "back.mp3"
    done = run_loosen(
        "export", "back-loosening", "-o", str(exported), "--engine", "espeak",
        env={"LOOSEN_CACHE_DIR": str(cache)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    digest = hashlib.sha256(exported.read_bytes()).hexdigest()
    assert len(results) == 20
    assert {hashlib.sha256(body).hexdigest() for body in results} == {digest}
    assert len(results[0]) > 3_000_000  # 15 minutes


def open_descriptors(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def test_a_listener_who_hangs_up_mid_download_leaves_nothing_behind(cache: Path) -> None:
    with serving([TINY], cache=cache) as served:
        audio = str(served.ready("tiny")["audio"])
        served.request("/api/sessions")
        before = open_descriptors(served.process.pid)
        for _ in range(5):
            raw = socket.create_connection(("127.0.0.1", served.port))
            raw.sendall(f"GET {audio} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
            assert raw.recv(4096)
            raw.close()  # gone, with most of the file unsent
        status, _, body = served.request(audio, root="")
        assert status == 200 and len(body) > 10_000
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
        connection.request("GET", "/api/sessions")
        assert connection.getresponse().status == 200
        connection.close()
        after = open_descriptors(served.process.pid)
        assert after <= before + 1  # no file or socket left open by the hung-up downloads
    files = list((cache / "served").iterdir())
    assert not [p for p in files if not p.name.endswith((".mp3", ".json"))]


def test_an_edited_script_is_a_new_episode(tmp_path: Path) -> None:
    script = tmp_path / "tiny.toml"
    shutil.copy(TINY, script)
    with serving([str(script)], cache=tmp_path) as served:
        first = served.ready("tiny")
        script.write_text(script.read_text().replace('title = "Tiny"', 'title = "Tiny, edited"'))
        edited = served.ready("tiny")
        assert edited["audio"] != first["audio"] and edited["title"] == "Tiny, edited"


def test_the_library_lists_a_script_added_while_it_serves(tmp_path: Path) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    shutil.copy(TINY, scripts / "tiny.toml")
    with serving([], env={"LOOSEN_SCRIPTS_DIR": str(scripts)}, cache=tmp_path) as served:
        _, listed = served.json("/api/sessions")
        assert "tiny" in [s["name"] for s in listed]  # type: ignore[union-attr]
        shutil.copy(TINY, scripts / "another.toml")
        _, listed = served.json("/api/sessions")
        assert "another" in [s["name"] for s in listed]  # type: ignore[union-attr]


def test_ctrl_c_stops_the_server_and_a_rendering_under_way_leaves_nothing(
    tmp_path: Path,
) -> None:
    with serving(["back-loosening"], cache=tmp_path) as served:
        status, _ = served.json("/api/sessions/back-loosening")
        assert status == 202
        served.process.send_signal(signal.SIGINT)
        assert served.process.wait(timeout=60) == 130
    assert "Interrupted." in served.printed
    assert not [p for p in (tmp_path / "served").glob("*") if p.is_file()]


def test_sigterm_stops_the_server_with_143(tmp_path: Path) -> None:
    with serving([TINY], cache=tmp_path) as served:
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(timeout=60) == 143
    assert "Terminated." in served.printed


def test_the_default_port_falls_back_to_a_free_one_when_taken(tmp_path: Path) -> None:
    from loosen.serve import DEFAULT_PORT

    taken = socket.socket()
    with contextlib.suppress(OSError):  # another program has it already: the same condition
        taken.bind(("127.0.0.1", DEFAULT_PORT))
        taken.listen(1)
    try:
        with serving([TINY], cache=tmp_path, port=None) as served:
            assert served.port != DEFAULT_PORT
            assert f"Port {DEFAULT_PORT} is in use; listening on port {served.port} instead." in (
                served.printed
            )
            status, _, _ = served.request("/api/sessions")
            assert status == 200
        done = run_loosen("serve", TINY, "--port", str(DEFAULT_PORT))
    finally:
        taken.close()
    assert done.returncode == 1
    assert done.stderr == (
        f"Error: cannot listen on 127.0.0.1 port {DEFAULT_PORT}: Address already in use\n"
    )


def test_nothing_to_serve_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = run_loosen("serve", str(tmp_path / "missing.toml"), "--port", "0")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "missing.toml" in done.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("title = 3\n")
    done = run_loosen("serve", str(bad), "--port", "0")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "bad.toml" in done.stderr


def test_without_the_phone_extra_it_says_how_to_install_it(tmp_path: Path) -> None:
    (tmp_path / "uvicorn.py").write_text('raise ImportError("No module named uvicorn")\n')
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    done = run_loosen("serve", TINY, "--port", "0", env={"PYTHONPATH": path})
    assert done.returncode == 2
    assert done.stderr == (
        "Error: loosen serve needs the phone extra: pip install 'loosen[phone]'\n"
    )


def test_a_listener_goes_before_the_feeds_renderings(tmp_path: Path) -> None:
    # all three are queued for the feed at the start, in order; asking for the last moves it
    # to the front, behind only the one under way
    with serving(["stretch-quick", "pmr-4", TINY], cache=tmp_path) as served:
        served.ready("tiny")
        status, state = served.json("/api/sessions/pmr-4?pace=standard")
        assert status == 202, state


def test_a_pace_asked_for_and_then_changed_is_not_rendered_in_vain(tmp_path: Path) -> None:
    # stretch-quick is under way at the start; the listener taps gentle, then brisk: gentle,
    # still waiting, is dropped, and the feed's renderings follow brisk's
    with serving(["stretch-quick", "pmr-4", TINY], cache=tmp_path) as served:
        assert served.json("/api/sessions/tiny?pace=gentle")[0] == 202
        served.ready("tiny", "?pace=brisk")
        deadline = time.monotonic() + RENDERED_S
        while served.request("/feed.xml")[2].count(b"<enclosure") < 3:  # the feed's three
            assert time.monotonic() < deadline, "the feed's renderings were not made"
            time.sleep(0.2)
        made = sorted(p.name for p in (tmp_path / "served").glob("*.mp3"))
    assert len(made) == 4, made  # stretch-quick, tiny brisk, pmr-4, tiny: no tiny gentle


def test_a_page_may_wait_for_its_rendering_in_one_request(tmp_path: Path) -> None:
    with serving([TINY], cache=tmp_path) as served:
        for bogus in ("abc", "nan", "-1", ""):  # not a wait: answered at once, as it stands
            status, state = served.json(f"/api/sessions/tiny?pace=1.37&wait={bogus}")
            assert status == 202 and state["state"] == "rendering", state  # type: ignore[index]
        answers = []
        while not answers or answers[-1] == 202:  # held up to 5 s each time, until it is made
            answers.append(served.json("/api/sessions/tiny?pace=1.37&wait=5")[0])
        assert answers[-1] == 200


def test_a_session_whose_name_needs_escaping_is_served(tmp_path: Path) -> None:
    script = tmp_path / "my session #2.toml"
    shutil.copy(TINY, script)
    with serving([str(script)], cache=tmp_path) as served:
        _, listed = served.json("/api/sessions")
        (session,) = listed  # type: ignore[misc]
        assert session["page"] == "/session/my%20session%20%232"
        assert served.request(session["cover"], root="")[0] == 200
        document = served.ready("my%20session%20%232")
        assert document["name"] == "my session #2"
        body = served.request("/feed.xml")[2]
        assert b"/session/my%20session%20%232" in body
