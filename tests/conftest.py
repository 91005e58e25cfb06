"""Shared test setup: a private speech cache, sounds, scripts and config folder for the whole
run."""

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# CI draws the same examples every run (a red CI must mean the change, not a draw); a developer's
# run draws new ones, which is how the example kept in tests/loudness/test_source_loudness.py
# was found. `.ci/run` sets LOOSEN_REQUIRE_TOOLS=1; HYPOTHESIS_PROFILE picks one by hand.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE")
    or ("ci" if os.environ.get("CI") or os.environ.get("LOOSEN_REQUIRE_TOOLS") else "dev")
)

HERE = Path(__file__).parent

# A run started in the background by a non-interactive shell (`pytest &`) inherits Ctrl+C
# ignored, as every background job does, and under nohup the hang-up too; so would each command
# it starts, and the tests that send them would find them ignored. The commands start from the
# defaults, as at a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
if hasattr(signal, "SIGHUP") and signal.getsignal(signal.SIGHUP) is signal.SIG_IGN:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


@pytest.fixture(autouse=True, scope="session")
def _private_user_folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the user's real cache and config out of the tests, and share one cache across them."""
    patch = pytest.MonkeyPatch()
    patch.setenv("LOOSEN_CACHE_DIR", str(tmp_path_factory.mktemp("speech-cache")))
    patch.setenv("LOOSEN_SOUNDS_DIR", str(tmp_path_factory.mktemp("user-sounds")))
    patch.setenv("LOOSEN_SCRIPTS_DIR", str(tmp_path_factory.mktemp("user-scripts")))
    patch.setenv("LOOSEN_STATE_DIR", str(tmp_path_factory.mktemp("state")))
    patch.setenv("LOOSEN_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
    yield
    patch.undo()
