"""A real browser for the web player's tests: Debian's headless Chromium driven by Selenium
through chromedriver (both from apt: `chromium`, `chromium-driver`), with autoplay allowed and
nothing of the network touched (the flags a closed machine needs)."""

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.tools import require, require_module

PHONE_WINDOW = "412,915"  # a phone's viewport, in CSS pixels
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--autoplay-policy=no-user-gesture-required",
    f"--window-size={PHONE_WINDOW}",
)  # fmt: skip


def artifacts_dir() -> Path:
    """Where screenshots go: ``$LOOSEN_ARTIFACTS_DIR`` (CI keeps it), else a temporary folder."""
    folder = Path(os.environ.get("LOOSEN_ARTIFACTS_DIR") or tempfile.gettempdir()) / "loosen"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium under Selenium's control, quit when the block ends."""
    require_module("selenium")
    binary = shutil.which("chromium") or require("chromium")
    driver_path = shutil.which("chromedriver") or require("chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="loosen-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
