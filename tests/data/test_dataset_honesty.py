"""The bundled dataset says only what its sources say.

Every quote must appear verbatim in the research copy it comes from (the CNN article for the CNN
article, the research notes for everything else); every site coordinate must be the sourced one;
every incident must rest on at least one verbatim quote.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from app.data.loader import Dataset, load_dataset
from app.data.model import Citation, LocationClaim
from app.settings import BUNDLED_DATA
from tests.conftest import RESEARCH

CNN_ARTICLE_SOURCE = "cnn-2017-06-08"
# Incidents for which no verbatim wording of any source is available to the project (the
# research notes summarise these reports without quoting them). Each says why in the data.
NO_VERBATIM_QUOTE = {"2016-06-21-rukban-car-bomb", "2017-01-21-rukban-camp-car-bomb"}


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("**", "")).strip()


FACTS = normalise((RESEARCH / "at-tanf-facts.md").read_text(encoding="utf-8"))
CNN = normalise((RESEARCH / "cnn-2017-06-08-at-tanf-article.txt").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return load_dataset(BUNDLED_DATA)


def quoted(dataset: Dataset) -> Iterator[tuple[str, str, str]]:
    """(where, source id, quote) for every quote in the dataset."""
    items: list[tuple[str, Citation | LocationClaim]] = []
    for incident in dataset.incidents:
        items += [(incident.id, c) for c in incident.sources]
        items += [(f"{incident.id}/{c.id}", c) for c in incident.location_claims]
    items += [(dataset.zone.id, c) for c in dataset.zone.sources]
    items += [(v.id, c) for v in dataset.zone.variants for c in v.sources]
    for where, item in items:
        if item.quote is not None:
            yield where, item.source, item.quote


def test_every_quote_is_verbatim_in_its_research_copy(dataset: Dataset) -> None:
    missing = []
    for where, source, quote in quoted(dataset):
        corpus = CNN if source == CNN_ARTICLE_SOURCE else FACTS
        if normalise(quote) not in corpus:
            missing.append(f"{where} ({source}): {quote!r}")
    assert not missing, "quotes not found verbatim:\n" + "\n".join(missing)


def test_every_incident_rests_on_a_verbatim_quote(dataset: Dataset) -> None:
    without = {i.id for i in dataset.incidents if not any(c.quote for c in i.sources)}
    assert without == NO_VERBATIM_QUOTE
    for incident in dataset.incidents:
        if incident.id in NO_VERBATIM_QUOTE:
            assert all(c.no_quote_reason for c in incident.sources)


def test_every_site_coordinate_is_the_sourced_one(dataset: Dataset) -> None:
    for site in dataset.sites.values():
        assert f"{site.lat}" in FACTS and f"{site.lon}" in FACTS, site.id
        for cite in site.sources:
            assert cite.quote is not None
            for part in cite.quote.split():
                assert part in FACTS, f"{site.id}: {part!r}"


# The incidents of the research notes (2016-06 to 2018-09) and of the CNN article of 8 June 2017.
EXPECTED_INCIDENTS = [
    ("2016-06-16", "Explosions/Remote violence"),  # Russian strikes on the New Syrian Army
    ("2016-06-21", "Explosions/Remote violence"),  # Rukban car bomb
    ("2017-01-21", "Explosions/Remote violence"),  # Rukban camp car bomb
    ("2017-04-08", "Battles"),  # ISIS attack on the garrison
    ("2017-05-18", "Explosions/Remote violence"),  # strike on the convoy
    ("2017-05-18", "Strategic developments"),  # element stays inside, late May
    ("2017-06-06", "Battles"),  # CNN: ground attack on militia just inside
    ("2017-06-06", "Explosions/Remote violence"),  # CNN: US-approved Syrian strike
    ("2017-06-06", "Strategic developments"),  # CNN: medevac request
    ("2017-06-06", "Explosions/Remote violence"),  # F/A-18 strike, four bombs
    ("2017-06-08", "Explosions/Remote violence"),  # technicals, about 24 miles
    ("2017-06-08", "Strategic developments"),  # drone shot down
    ("2017-06-09", "Strategic developments"),  # army reaches the Iraqi border
    ("2017-06-13", "Strategic developments"),  # HIMARS
    ("2017-06-19", "Strategic developments"),  # second drone
    ("2017-07-01", "Strategic developments"),  # partner force outside the zone
    ("2017-09-17", "Strategic developments"),  # Zakf evacuated
    ("2017-10-05", "Explosions/Remote violence"),  # convoy near Camp Kabad
    ("2018-01-01", "Strategic developments"),  # Russia refuses a strike request
    ("2018-06-21", "Battles"),  # clash just outside the zone
    ("2018-09-01", "Strategic developments"),  # Russian notice, Marine exercise
]


def test_every_reported_incident_is_in_the_dataset(dataset: Dataset) -> None:
    got = sorted((i.date.start.isoformat(), i.event_type) for i in dataset.incidents)
    assert got == sorted(EXPECTED_INCIDENTS)


def test_disagreeing_claims_are_all_kept(dataset: Dataset) -> None:
    strike = next(i for i in dataset.incidents if i.id == "2017-06-06-coalition-strike")
    sources = {c.source for c in strike.location_claims}
    assert {"yalibnan-2017-06-07", "grasswire-2017-06-06", "sohr-2017-06-06"} <= sources


def test_claims_quote_their_own_cited_source(dataset: Dataset) -> None:
    for incident in dataset.incidents:
        cited = {c.source for c in incident.sources}
        for claim in incident.location_claims:
            assert claim.source in cited, f"{incident.id}/{claim.id}"
