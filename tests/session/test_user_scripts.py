from pathlib import Path

import pytest

from loosen.errors import BadInputError
from loosen.script.library import find_scripts, resolve_script, user_scripts_dir
from loosen.session.user_scripts import new_script


def test_a_new_script_is_a_copy_found_by_its_name_and_listed_as_yours() -> None:
    path = new_script("evening", "pmr-16")
    assert path == user_scripts_dir() / "evening.toml"
    assert resolve_script("evening") == path
    entries = find_scripts()
    assert entries["evening"].origin == "yours"
    assert entries["pmr-16"].origin == "bundled"
    path.unlink()


def test_a_new_script_never_overwrites_and_needs_a_plain_name() -> None:
    path = new_script("twice", "pmr-4")
    with pytest.raises(BadInputError, match="already exists"):
        new_script("twice", "pmr-4")
    for bad in ("../escape", "a/b", "x.toml", ""):
        with pytest.raises(BadInputError, match="not a usable script name"):
            new_script(bad, "pmr-4")
    path.unlink()


def test_the_users_folder_can_be_moved_by_an_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOSEN_SCRIPTS_DIR", str(tmp_path / "mine"))
    new_script("calm", "stretch-quick")
    assert (tmp_path / "mine" / "calm.toml").is_file()


def test_a_copy_that_cannot_be_written_is_said_in_one_line_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os
    import tempfile

    def no_descriptors(*args: object, **kwargs: object) -> tuple[int, str]:
        raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))

    monkeypatch.setenv("LOOSEN_SCRIPTS_DIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "mkstemp", no_descriptors)
    with pytest.raises(BadInputError) as raised:
        new_script("evening", "pmr-4")
    assert str(raised.value) == (
        f"{tmp_path / 'evening.toml'}: could not write the script: Too many open files"
    )
    assert list(tmp_path.iterdir()) == []
