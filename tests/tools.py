"""Outside tools the tests use (ffprobe, ffmpeg): skipped without them, except where CI says
they must be there (LOOSEN_REQUIRE_TOOLS)."""

import os
import shutil

import pytest


def require(tool: str) -> str:
    """The path of ``tool``; skip the test without it, or fail when it is required."""
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("LOOSEN_REQUIRE_TOOLS"):
            pytest.fail(f"{tool} is required here (LOOSEN_REQUIRE_TOOLS is set)")
        pytest.skip(f"{tool} is not installed")
    return path


def require_module(name: str) -> None:
    """Skip the test module without the Python package ``name``, or fail where it is required
    (LOOSEN_REQUIRE_TOOLS: CI, where every dependency is installed)."""
    import importlib.util

    if importlib.util.find_spec(name) is None:
        if os.environ.get("LOOSEN_REQUIRE_TOOLS"):
            pytest.fail(f"{name} is required here (LOOSEN_REQUIRE_TOOLS is set)")
        pytest.skip(f"{name} is not installed", allow_module_level=True)
