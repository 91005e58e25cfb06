"""The names importers take from `loosen.loudness.meter` stay there, the same objects as in the
modules they moved to."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from loosen.loudness import limiter, meter, normalizer, true_peak

MOVED = {
    "DEFAULT_TRUE_PEAK_DBTP": normalizer,
    "MAKE_UP_MOST_DB": normalizer,
    "Forecast": normalizer,
    "LoudnessReport": normalizer,
    "Normalizer": normalizer,
    "default_target_lufs": normalizer,
    "normalize": normalizer,
    "TRUE_PEAK_TAPS": true_peak,
    "TruePeakMeter": true_peak,
    "true_peak_bound_dbtp": true_peak,
    "limit_true_peak": limiter,
}


@pytest.mark.parametrize("name", sorted(MOVED))
def test_a_moved_name_is_still_the_meters(name: str) -> None:
    assert getattr(meter, name) is getattr(MOVED[name], name)
    assert name in meter.__all__


def test_every_name_the_meter_exports_is_there() -> None:
    for name in meter.__all__:
        assert getattr(meter, name) is not None
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = meter.no_such_name  # type: ignore[attr-defined]


@pytest.mark.parametrize("first", ["normalizer", "limiter", "true_peak", "meter", "sources"])
def test_any_loudness_module_imports_first(first: str) -> None:
    # the meter loads the normaliser's names on first use, as the normaliser imports the meter
    code = f"import loosen.loudness.{first}; from loosen.loudness.meter import Normalizer"
    src = Path(meter.__file__).parent.parent.parent
    subprocess.run([sys.executable, "-c", code], check=True, cwd=src)
