"""How words become numbers: distance bands, rounding steps, compass sectors."""

from __future__ import annotations

import pytest

from app.geo.wording import OPEN_REACH_M, compass_sector, distance_band_m, rounding_step

MI = 1609.344


@pytest.mark.parametrize(
    ("value", "step"), [(24, 1), (50, 10), (100, 100), (13, 1), (20, 10), (1.5, 0.1), (0.25, 0.01)]
)
def test_rounding_step_follows_the_last_significant_digit(value: float, step: float) -> None:
    assert rounding_step(value) == pytest.approx(step)


@pytest.mark.parametrize(
    ("words", "band_m"),
    [
        pytest.param((24, "mi", "about"), (23.5 * MI, 24.5 * MI), id="about-24-miles"),
        pytest.param((50, "km", "about"), (45_000, 55_000), id="about-50-km"),
        pytest.param((50, "km", "nearly"), (45_000, 50_000), id="nearly-50-km"),
        pytest.param((29, "km", "within"), (0, 29_000), id="within-29-km"),
        pytest.param((20, "mi", "within_about"), (0, 25 * MI), id="within-about-20-miles"),
        pytest.param((10, "km", "less_than"), (0, 10_000), id="less-than-10-km"),
        pytest.param((100, "km", "more_than"), (100_000, OPEN_REACH_M), id="more-than-100-km"),
        pytest.param((500, "km", "more_than"), (500_000, 500_000), id="more-than-beyond-reach"),
    ],
)
def test_distance_bands(words: tuple[float, str, str], band_m: tuple[float, float]) -> None:
    assert distance_band_m(*words) == pytest.approx(band_m)


def test_explicit_step_overrides_the_written_rounding() -> None:
    assert distance_band_m(50, "km", "about", step=2) == pytest.approx((49_000, 51_000))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, "km", "about"), "positive"),
        ((float("nan"), "km", "about"), "positive"),
        ((5, "furlong", "about"), "unknown distance unit"),
        ((5, "km", "roughly-ish"), "unknown qualifier"),
    ],
)
def test_bad_distance_words_are_refused(args: tuple[float, str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        distance_band_m(*args)


@pytest.mark.parametrize(
    ("word", "sector"),
    [
        ("N", (337.5, 22.5)),
        ("northwest", (292.5, 337.5)),
        ("NW", (292.5, 337.5)),
        ("W", (247.5, 292.5)),
        ("east", (67.5, 112.5)),
        ("NNW", (326.25, 348.75)),
        ("ESE", (101.25, 123.75)),
    ],
)
def test_compass_sectors(word: str, sector: tuple[float, float]) -> None:
    assert compass_sector(word) == pytest.approx(sector)


def test_unknown_compass_word_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown compass"):
        compass_sector("up")
