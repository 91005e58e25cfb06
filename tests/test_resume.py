from pathlib import Path

import pytest

from loosen.resume import (
    SavedPosition,
    clear_position,
    load_position,
    positions_file,
    save_position,
)


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOSEN_STATE_DIR", str(tmp_path))


def test_a_saved_position_is_found_again_per_script() -> None:
    save_position("/a.toml", SavedPosition(5, "hamstring stretch", 123.5))
    save_position("/b.toml", SavedPosition(2, None, 10.0))
    assert load_position("/a.toml") == SavedPosition(5, "hamstring stretch", 123.5)
    clear_position("/a.toml")
    assert load_position("/a.toml") is None
    assert load_position("/b.toml") == SavedPosition(2, None, 10.0)


def test_a_damaged_positions_file_means_nothing_to_resume() -> None:
    positions_file().write_text("{ not json")
    assert load_position("/a.toml") is None
    save_position("/a.toml", SavedPosition(1, None, 0.0))
    assert load_position("/a.toml") == SavedPosition(1, None, 0.0)
