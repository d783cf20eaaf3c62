"""Data that `validate` passed and the service then failed on (a second attack on issue 17's kinds):
numbers no geometry or JSON can hold, a range given backwards, a YAML alias bomb, and a borders
file of the wrong shape. Each is a problem naming file, record and field, never a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest

from tests.data.test_loader_errors import edit
from tests.data.test_loader_hardening import problems_of

MAX_COUNT = 2**53 - 1  # JavaScript's Number.MAX_SAFE_INTEGER (app.data.model)
STRIKE = "incidents/2017-06-06-coalition-strike.yaml"
RUSSIAN = "incidents/2016-06-16-russian-strikes-new-syrian-army.yaml"
FIFTEEN_MILES = "distance: {value: 15, unit: mi, qualifier: about}"


@pytest.mark.parametrize(
    ("rel", "old", "new", "field"),
    [
        (STRIKE, FIFTEEN_MILES, "distance: {value: .inf, unit: mi, qualifier: about}", "distance.value"),
        (STRIKE, FIFTEEN_MILES, "distance: {value: .nan, unit: mi, qualifier: about}", "distance.value"),
        (STRIKE, FIFTEEN_MILES, "distance: {value: 15, unit: mi, qualifier: about, step: .inf}",
         "distance.step"),
        (STRIKE, FIFTEEN_MILES, "distance: {value: 1e400, unit: mi, qualifier: about}", "distance.value"),
        ("sites.yaml", "precision_m: 40", "precision_m: .inf", "precision_m"),
        ("zone.yaml", "radius_km: 55", "radius_km: .nan", "radius_km"),
    ],
)  # fmt: skip
def test_a_number_that_is_not_finite_is_refused_by_field(
    data_copy: Path, rel: str, old: str, new: str, field: str
) -> None:
    edit(data_copy, rel, old, new)
    problems = problems_of(data_copy)  # before: a ValueError traceback from the geometry (.inf)
    assert any(p[0] == f"geodata/{rel}" and p[2] and p[2].endswith(field) and "finite" in p[3]
               for p in problems), problems  # fmt: skip


@pytest.mark.parametrize("km", ["1e308", "15000", "5500"])
def test_a_claim_reaching_too_far_is_refused_on_its_own_field(data_copy: Path, km: str) -> None:
    edit(data_copy, STRIKE, FIFTEEN_MILES, f"distance: {{value: {km}, unit: km, qualifier: about}}")
    problems = problems_of(data_copy)
    # Before: the garrison's 'lon' in sites.yaml was named, and 1e308 read "reaches inf km".
    assert [(p[0], p[1], p[2]) for p in problems] == [
        (f"geodata/{STRIKE}", "2017-06-06-coalition-strike", "location_claims.0.distance")
    ], problems
    assert "inf km" not in problems[0][3] and "5,000 km" in problems[0][3]


def test_fatalities_beyond_what_json_readers_hold_exactly_are_refused(data_copy: Path) -> None:
    # Before: `validate` said OK and `serve` died in orjson ("Integer exceeds 64-bit range").
    edit(data_copy, RUSSIAN, "min: 2\n    max: 2", f"min: 2\n    max: {10**26}")
    [problem] = problems_of(data_copy)
    assert problem[2] == "fatalities.0.max" and str(MAX_COUNT) in problem[3]
    assert orjson.loads(orjson.dumps(MAX_COUNT)) == MAX_COUNT == 2**53 - 1


def test_a_zone_valid_to_before_valid_from_is_refused(data_copy: Path) -> None:
    dates = "valid_from: 2020-01-01\nvalid_to: 2010-01-01\n"
    edit(data_copy, "zone.yaml", "radius_km: 55\n", f"radius_km: 55\n{dates}")
    [problem] = problems_of(data_copy)
    assert problem[0] == "geodata/zone.yaml"
    assert "'valid_to' (2010-01-01) is before 'valid_from'" in problem[3]


def test_a_yaml_alias_bomb_is_refused_at_once(data_copy: Path) -> None:
    # Ten levels of ten aliases: 10^8 strings from 700 bytes. Before: `validate` ran for minutes
    # (every check walks each string); now any alias is refused with its line.
    levels = ['&a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    levels += [f"&a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    edit(data_copy, RUSSIAN, "actors: [", f"note: {{bomb: [{', '.join(levels)}]}}\nactors: [*a8, ")
    started = time.monotonic()
    [problem] = problems_of(data_copy)
    assert time.monotonic() - started < 30
    assert problem[0] == f"geodata/{RUSSIAN}" and "alias *a0 at line" in problem[3]


@pytest.mark.parametrize(
    ("features", "field", "words"),
    [
        ("[1, null]", "features.0.properties.name", "needs a 'name'"),
        ('[{"type": "Feature", "properties": {"name": "X"}, '
         '"geometry": {"type": "Point", "coordinates": [1, 2]}}]',
         "features.0.geometry", "Polygon"),
        ('[{"type": "Feature", "properties": {"name": "X"}, "geometry": {"type": "Polygon", '
         '"coordinates": [[[0, 0], [1e308, 0], [1, 1], [0, 0]]]}}]', "features.0.geometry", "outside lon"),
        ('[{"type": "Feature", "properties": {"name": "X"}, "geometry": {"type": "Polygon", '
         '"coordinates": "nonsense"}}]', "features.0.geometry", "Polygon"),
        ('{"a": 1}', "features", "list of features"),
    ],
)  # fmt: skip
def test_a_borders_file_of_the_wrong_shape_is_refused_by_feature(
    data_copy: Path, features: str, field: str, words: str
) -> None:
    # Before: a TypeError traceback ('int' object is not subscriptable), or silently NaN shares.
    (data_copy / "borders.geojson").write_text(f'{{"type": "FeatureCollection", "features": {features}}}')
    problems = problems_of(data_copy)
    named = [p for p in problems if p[0] == "geodata/borders.geojson" and p[2] == field]
    assert any(words in p[3] for p in named), problems


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_a_file_saved_in_another_unicode_encoding_is_named_as_such(data_copy: Path, encoding: str) -> None:
    # Before: "file is not UTF-8 text (byte 0)"; now the byte order mark says what it is.
    path = data_copy / RUSSIAN
    text = path.read_text(encoding="utf-8")
    path.write_bytes(("\ufeff" + text).encode(encoding) if encoding.endswith("be") else text.encode(encoding))
    [problem] = problems_of(data_copy)
    assert problem[0] == f"geodata/{RUSSIAN}"
    assert f"file is {encoding[:6].upper()} text" in problem[3] and "save it as UTF-8" in problem[3]
