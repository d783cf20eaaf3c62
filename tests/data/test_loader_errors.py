"""Invalid data is refused as a whole, and each message names the file, the record and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.data.loader import DataError, load_dataset

CNN_TECHNICALS = "incidents/2017-06-08-strike-on-technical-vehicles.yaml"
TECHNICALS_ID = "2017-06-08-strike-on-technical-vehicles"


TOWER_22 = "incidents/2024-01-28-tower-22-drone-attack.yaml"
TOWER_22_ID = "2024-01-28-tower-22-drone-attack"


def edit(data: Path, rel: str, old: str, new: str) -> None:
    path = data / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


CASES = [
    pytest.param(
        lambda d: edit(d, CNN_TECHNICALS, "title: Coalition strike on pro-regime technical vehicles\n", ""),
        (f"geodata/{CNN_TECHNICALS}", TECHNICALS_ID, "title", "Field required"),
        id="missing-field",
    ),
    pytest.param(
        lambda d: edit(d, CNN_TECHNICALS, "start: 2017-06-08", "start: 2017-06-31"),
        (f"geodata/{CNN_TECHNICALS}", TECHNICALS_ID, "date.start", "date"),
        id="bad-date",
    ),
    pytest.param(
        lambda d: edit(d, CNN_TECHNICALS, "from_sites: [garrison]", "from_sites: [garrsion]"),
        (
            f"geodata/{CNN_TECHNICALS}",
            TECHNICALS_ID,
            "location_claims.0.from_sites",
            "unknown site 'garrsion'",
        ),
        id="unknown-site",
    ),
    pytest.param(
        lambda d: edit(
            d, TOWER_22, "Other reports give 25", "The research notes add that other reports give 25"
        ),
        (f"geodata/{TOWER_22}", TOWER_22_ID, "note", "editors_note"),
        id="editors-words-in-a-readers-note",
    ),
    pytest.param(
        lambda d: edit(
            d, TOWER_22, 'text: "28 January 2024"', 'text: "28 January 2024 (as given in the sources)"'
        ),
        (f"geodata/{TOWER_22}", TOWER_22_ID, "date.text", "own workings"),
        id="editors-words-in-a-date",
    ),
    pytest.param(
        lambda d: edit(d, "sites.yaml", "lat: 33.50583", "lat: 133.50583"),
        ("geodata/sites.yaml", "garrison", "lat", "less than or equal to 90"),
        id="latitude-out-of-range",
    ),
    pytest.param(
        lambda d: edit(d, CNN_TECHNICALS, "summary: >-", "summary: [unclosed"),
        (f"geodata/{CNN_TECHNICALS}", None, None, "malformed YAML at line"),
        id="malformed-file",
    ),
    pytest.param(
        lambda d: (d / "incidents" / "copy.yaml").write_text(
            (d / CNN_TECHNICALS).read_text(encoding="utf-8"), encoding="utf-8"
        ),
        ("geodata/incidents/copy.yaml", TECHNICALS_ID, "id", "duplicate id"),
        id="duplicate-id",
    ),
    pytest.param(
        lambda d: edit(d, "sites.yaml", "  - id: al-tanf-crossing", "  - id: garrison"),
        ("geodata/sites.yaml", "garrison", "id", "duplicate id"),
        id="duplicate-site-id",
    ),
    pytest.param(
        lambda d: edit(d, CNN_TECHNICALS, "  - source: cjtf-oir-2017-06-08\n", "  - source: cjtf-oir-2099\n"),
        (
            f"geodata/{CNN_TECHNICALS}",
            TECHNICALS_ID,
            "sources.1.source",
            "unknown source 'cjtf-oir-2099'",
        ),
        id="unknown-source",
    ),
    pytest.param(
        lambda d: edit(
            d,
            CNN_TECHNICALS,
            '    quote: "destroyed two pro-regime',
            '    nonsense: "destroyed two pro-regime',
        ),
        (f"geodata/{CNN_TECHNICALS}", TECHNICALS_ID, "sources.1.nonsense", "Extra inputs"),
        id="unknown-field",
    ),
    pytest.param(
        lambda d: edit(d, CNN_TECHNICALS, "    distance: {value: 24, unit: mi, qualifier: about}\n", ""),
        (
            f"geodata/{CNN_TECHNICALS}",
            TECHNICALS_ID,
            "location_claims.0",
            "'from_sites' needs a 'distance' or a 'bearing'",
        ),
        id="anchor-without-distance",
    ),
    pytest.param(
        lambda d: edit(d, "zone.yaml", "centre: garrison", "centre: base"),
        ("geodata/zone.yaml", "at-tanf-dcz", "centre", "unknown site 'base'"),
        id="zone-unknown-centre",
    ),
    pytest.param(
        lambda d: (d / "sources.yaml").unlink(),
        ("geodata/sources.yaml", None, None, "file is missing"),
        id="missing-file",
    ),
    pytest.param(
        lambda d: edit(
            d,
            CNN_TECHNICALS,
            "  - source: cjtf-oir-2017-06-08\n    quote:",
            "  - source: cjtf-oir-2017-06-08\n    note:",
        ),
        (f"geodata/{CNN_TECHNICALS}", TECHNICALS_ID, "sources.1", "verbatim 'quote'"),
        id="citation-without-quote",
    ),
    pytest.param(
        lambda d: (d / "sources.yaml").write_text(
            (d / "sources.yaml").read_text(encoding="utf-8") + "  - id: left-over\n    outlet: Nobody\n",
            encoding="utf-8",
        ),
        ("geodata/sources.yaml", "left-over", "id", "not cited by any incident, site or the zone"),
        id="unused-source",
    ),
    pytest.param(
        lambda d: edit(
            d,
            CNN_TECHNICALS,
            "    text: about 24 miles from the At Tanf base\n",
            "    context: 'hit about 42 miles from'\n    text: about 24 miles from the At Tanf base\n",
        ),
        (f"geodata/{CNN_TECHNICALS}", TECHNICALS_ID, "location_claims.0", "must contain the 'quote'"),
        id="context-without-its-quote",
    ),
    pytest.param(
        lambda d: edit(
            d,
            TOWER_22,
            'country: {name: Jordan, quote: "a drone',
            'country: {name: Jordania, quote: "a drone',
        ),
        (f"geodata/{TOWER_22}", TOWER_22_ID, "location_claims.0.country.name", "unknown country 'Jordania'"),
        id="unknown-country",
    ),
    pytest.param(
        lambda d: edit(
            d,
            TOWER_22,
            "    from_sites: [garrison, al-tanf-crossing]\n"
            "    distance: {value: 12, unit: mi, qualifier: about}\n"
            "    bearing: {compass: S}\n",
            "",
        ),
        (f"geodata/{TOWER_22}", TOWER_22_ID, "location_claims.0", "alone it would draw the whole country"),
        id="country-alone",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), CASES)
def test_invalid_data_is_refused_with_file_record_field(
    data_copy: Path, mutate: object, expected: tuple[str, str | None, str | None, str]
) -> None:
    mutate(data_copy)  # type: ignore[operator]
    with pytest.raises(DataError) as caught:
        load_dataset(data_copy)
    file, record, field, words = expected
    matching = [
        p
        for p in caught.value.problems
        if p.file == file and p.record == record and (field is None or p.field == field)
    ]
    assert matching, f"no problem at {expected[:3]}; got {caught.value.problems}"
    assert any(words in p.message for p in matching), [p.message for p in matching]
    # The message a user sees carries all three.
    text = str(caught.value)
    assert file in text and (record is None or repr(record) in text)


def test_every_problem_is_reported_at_once(data_copy: Path) -> None:
    edit(data_copy, CNN_TECHNICALS, "start: 2017-06-08", "start: yesterday")
    edit(data_copy, "sites.yaml", "lon: 38.61778", "lon: 238.61778")
    with pytest.raises(DataError) as caught:
        load_dataset(data_copy)
    assert {p.file for p in caught.value.problems} == {
        f"geodata/{CNN_TECHNICALS}",
        "geodata/sites.yaml",
    }


def test_the_bundled_data_loads(data_copy: Path) -> None:
    dataset = load_dataset(data_copy)
    assert len(dataset.incidents) == len(list((data_copy / "incidents").glob("*.yaml")))
    assert dataset.zone.radius_km == 55


def test_version_is_a_content_hash(data_copy: Path) -> None:
    before = load_dataset(data_copy).version
    assert load_dataset(data_copy).version == before
    edit(data_copy, CNN_TECHNICALS, "The\n  third coalition strike", "The\n  third  coalition strike")
    assert load_dataset(data_copy).version != before
