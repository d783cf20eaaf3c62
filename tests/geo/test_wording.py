"""How words become numbers: distance bands, rounding steps, compass sectors."""

from __future__ import annotations

import pytest

from app.geo.wording import OPEN_REACH_M, compass_sector, distance_band_m, rounding_step

MI = 1609.344


@pytest.mark.parametrize(
    ("value", "step"),
    [(24, 1), (50, 10), (100, 100), (13, 1), (20, 10), (5, 1), (1.2, 0.1), (0.24, 0.01)],
)
def test_rounding_step_follows_the_last_significant_digit(value: float, step: float) -> None:
    assert rounding_step(value) == pytest.approx(step)


@pytest.mark.parametrize(
    ("value", "step"), [(15, 5), (45, 5), (25, 5), (150, 50), (1.5, 0.5), (0.25, 0.05), (35, 5)]
)
def test_round_numbers_ending_in_5_get_the_half_decade_step(value: float, step: float) -> None:
    # The round-number principle (Krifka 2009): 15, 45, 150 are used with a coarser precision.
    assert rounding_step(value) == pytest.approx(step)


@pytest.mark.parametrize(
    ("words", "band_mi"),
    [
        pytest.param((15, "about"), (12.5, 17.5), id="about-15-miles"),
        pytest.param((45, "about"), (42.5, 47.5), id="roughly-45-miles"),
        pytest.param((24, "about"), (23.5, 24.5), id="about-24-miles-unchanged"),
        pytest.param((17, "about"), (16.5, 17.5), id="about-17-miles-unchanged"),
    ],
)
def test_round_number_bands_in_miles(words: tuple[float, str], band_mi: tuple[float, float]) -> None:
    low, high = distance_band_m(words[0], "mi", words[1])
    assert (low / MI, high / MI) == pytest.approx(band_mi)


def test_roughly_45_miles_holds_the_70_km_another_source_gives() -> None:
    # WaPo: Tanf is "roughly 45 miles away from Zakaf"; a MaT spokesman: 70 km. One outpost.
    low, high = distance_band_m(45, "mi", "about")
    assert low < 70_000 < high
    # The old unit step (44.5-45.5 mi = 71.6-73.2 km) excluded it.
    assert not (44.5 * MI < 70_000 < 45.5 * MI)


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
