"""Shared test setup: a private speech cache, sounds, scripts and config folder for the whole
run."""

from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent


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
