"""One real pyttsx3 engine (one worker process) shared by the tests that need real speech."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from loosen.tts.pyttsx3_engine import Pyttsx3Engine


@pytest.fixture(scope="session")
def real_engine() -> Iterator[Pyttsx3Engine]:
    with Pyttsx3Engine() as engine:
        yield engine
