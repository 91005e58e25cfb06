"""The web player in a real browser: the list, a session that plays, the step controls, and what
the phone's lock screen is told (the Media Session's metadata)."""

from typing import Any

import pytest
from tests.serve.browser import artifacts_dir, chromium
from tests.serve.serving import DATA, serving
from tests.tools import require_module

require_module("starlette")
require_module("selenium")

WAIT_S = 60  # at most, for the page to get where it is going (never a fixed sleep)


def wait_for(driver: Any, script: str) -> Any:
    """Run ``script`` (a JS expression) until it is truthy; its value."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_S, poll_frequency=0.05).until(
        lambda d: d.execute_script(f"return {script};")
    )


def now(driver: Any, script: str) -> Any:
    return driver.execute_script(f"return {script};")


@pytest.fixture(scope="module")
def player(tmp_path_factory: pytest.TempPathFactory) -> Any:
    cache = tmp_path_factory.mktemp("served")
    with serving([str(DATA / "tiny.toml"), str(DATA / "hold.toml")], cache=cache) as served:
        served.ready("tiny")
        with chromium() as driver:
            yield served, driver


def test_the_list_shows_every_session_with_its_length(player: Any) -> None:
    served, driver = player
    driver.get(served.url)
    wait_for(driver, "document.querySelectorAll('#sessions li').length === 2")
    names = now(driver, "[...document.querySelectorAll('#sessions .name')].map(e => e.textContent)")
    assert sorted(names) == ["Hold", "Tiny"]
    lengths = now(
        driver, "[...document.querySelectorAll('#sessions .length')].map(e => e.textContent)"
    )
    assert all(":" in length for length in lengths)
    driver.save_screenshot(str(artifacts_dir() / "web-player-list.png"))


def test_a_session_plays_and_the_lock_screen_names_the_step(player: Any) -> None:
    served, driver = player
    driver.get(served.url + "session/tiny")
    wait_for(driver, "!document.getElementById('play').disabled")
    driver.find_element("id", "play").click()
    wait_for(driver, "document.getElementById('audio').currentTime > 0.3")
    assert now(driver, "document.getElementById('audio').paused") is False
    assert now(driver, "navigator.mediaSession.playbackState") == "playing"
    metadata = now(
        driver,
        "(m => ({title: m.title, artist: m.artist, art: m.artwork[0].src}))"
        "(navigator.mediaSession.metadata)",
    )
    assert metadata["title"] == "welcome" and metadata["artist"] == "Tiny"
    assert metadata["art"].endswith("/cover/tiny.jpg")
    assert driver.find_element("id", "step").text == "welcome"
    assert "Welcome." in driver.find_element("id", "lines").text
    assert driver.find_element("id", "play").get_attribute("aria-label") == "Pause"
    # a phone's width: nothing sticks out sideways
    assert now(driver, "document.documentElement.scrollWidth <= window.innerWidth")
    driver.save_screenshot(str(artifacts_dir() / "web-player-session.png"))


def test_next_and_previous_move_to_the_steps_start_times(player: Any) -> None:
    served, driver = player
    document = served.ready("tiny")
    starts = [step["start_s"] for step in document["steps"]]
    driver.get(served.url + "session/tiny")
    wait_for(driver, "!document.getElementById('play').disabled")
    driver.find_element("id", "play").click()
    wait_for(driver, "document.getElementById('audio').currentTime > 0.2")
    position = "document.getElementById('audio').currentTime"
    for step in (1, 2, 3):
        driver.find_element("id", "next").click()
        at = wait_for(driver, f"({position} >= {starts[step]} - 0.05) && {position}")
        assert starts[step] - 0.05 <= at < starts[step] + 1.0
        title = document["steps"][step]["title"]
        wait_for(driver, f"navigator.mediaSession.metadata.title === {title!r}")
        assert driver.find_element("id", "step").text == title
    driver.find_element("id", "prev").click()  # within 3 s of a step's start: the one before
    at = wait_for(driver, f"({position} < {starts[3]} - 0.05) && ({position} + 0.0001)")
    assert starts[2] - 0.05 <= at < starts[2] + 1.0
    assert now(driver, "navigator.mediaSession.metadata.title") == document["steps"][2]["title"]


def test_the_progress_bar_marks_every_step(player: Any) -> None:
    served, driver = player
    document = served.ready("tiny")
    driver.get(served.url + "session/tiny")
    wait_for(driver, "!document.getElementById('play').disabled")
    marks = now(driver, "[...document.querySelectorAll('#marks span')].map(e => e.title)")
    assert marks == [step["title"] for step in document["steps"][1:]]


def test_a_pace_chosen_while_playing_goes_on_at_the_same_step(player: Any) -> None:
    from selenium.webdriver.support.ui import Select

    served, driver = player
    driver.get(served.url + "session/tiny")
    wait_for(driver, "!document.getElementById('play').disabled")
    standard = now(driver, "window.loosenPlayer.session.duration_s")
    driver.find_element("id", "play").click()
    wait_for(driver, "document.getElementById('audio').currentTime > 0.2")
    driver.find_element("id", "next").click()
    driver.find_element("id", "next").click()
    wait_for(driver, "window.loosenPlayer.current === 2")
    wait_for(driver, "document.querySelectorAll('#pace option').length >= 3")
    Select(driver.find_element("id", "pace")).select_by_value("gentle")
    assert not driver.find_element("id", "play").get_attribute("disabled")  # still playing
    wait_for(driver, f"window.loosenPlayer.session.duration_s > {standard}")
    gentle = served.ready("tiny", "?pace=gentle")
    assert now(driver, "window.loosenPlayer.session.audio") == gentle["audio"]
    start_s = gentle["steps"][2]["start_s"]
    at = wait_for(driver, f"!document.getElementById('audio').paused && "
                          f"document.getElementById('audio').currentTime >= {start_s} - 0.05 && "
                          "document.getElementById('audio').currentTime")  # fmt: skip
    assert at < start_s + 2.0
    assert now(driver, "window.loosenPlayer.current") == 2


def test_keep_the_screen_on_holds_a_wake_lock_or_says_why_not(player: Any) -> None:
    served, driver = player
    driver.get(served.url + "session/tiny")
    wait_for(driver, "!document.getElementById('play').disabled")
    driver.find_element("id", "wake").click()
    outcome = wait_for(
        driver,
        "(window.loosenPlayer.wakeLock && 'held') || (!document.getElementById('wake').checked"
        " && document.getElementById('status').textContent)",
    )
    assert outcome == "held" or "screen" in outcome
    if outcome == "held":
        driver.find_element("id", "wake").click()
        wait_for(driver, "window.loosenPlayer.wakeLock === null")
