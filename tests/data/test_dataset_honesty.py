"""The bundled dataset says only what its sources say, and all that its research notes list.

Every quote (and the research words around it, ``context``) must stand verbatim in the research
copies *under the source it is filed under*: in a passage whose address or outlet is that
source's (``tests/data/research_notes.py`` says how a passage names its source). Every incident
must rest on at least one verbatim quote; every incident the notes list must be in the data;
every site coordinate must be the sourced one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from app.data.loader import Dataset, load_dataset
from app.data.model import Citation, LocationClaim, Source
from app.settings import BUNDLED_DATA
from tests.data.research_notes import (
    CNN_ARTICLE,
    PASSAGES,
    Passage,
    normalise,
    passages_with,
    reported_incidents,
    title_words,
)

FACTS = " ".join(p.text for p in PASSAGES)
RAW_SOURCES: dict[str, dict[str, Any]] = {
    s["id"]: s for s in yaml.safe_load((BUNDLED_DATA / "sources.yaml").read_text("utf-8"))["sources"]
}


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return load_dataset(BUNDLED_DATA)


def quoted(dataset: Dataset) -> Iterator[tuple[str, Citation | LocationClaim]]:
    """(where, citation or claim) for every quote in the dataset."""
    items: list[tuple[str, Citation | LocationClaim]] = []
    for incident in dataset.incidents:
        items += [(incident.id, c) for c in incident.sources]
        items += [(f"{incident.id}/{c.id}", c) for c in incident.location_claims]
    items += [(dataset.zone.id, c) for c in dataset.zone.sources]
    items += [(v.id, c) for v in dataset.zone.variants for c in v.sources]
    for site in dataset.sites.values():
        items += [(site.id, c) for c in site.sources if c.context]
    yield from ((where, item) for where, item in items if item.quote is not None)


def names_of(source: Source) -> list[str]:
    """How the notes may name a source: its addresses (``url`` and any in ``note``, as written
    in sources.yaml), its title, its outlet, and the outlet's parts ("Reuters via Middle East
    Monitor (Reuters/MEMO)": also "Reuters/MEMO" and "Reuters via Middle East Monitor")."""
    raw = RAW_SOURCES[source.id]
    names = re.findall(r"https?://\S+", f"{raw.get('url', '')} {raw.get('note', '')}")
    if source.title:
        names.append(source.title)
    outlet = source.outlet
    names += [outlet, outlet.removeprefix("The "), outlet.split(" (")[0], outlet.split(", ")[0]]
    names += re.findall(r"\(([^)]+)\)", outlet)
    return [normalise(n) for n in names if len(n) >= 2]


def stands_under(words: str, source: Source) -> list[Passage]:
    """The passages of the notes holding ``words`` whose source is ``source``."""
    names = names_of(source)
    return [p for p in passages_with(words) if any(n in p.names for n in names)]


CNN_ARTICLE_SOURCE = "cnn-2017-06-08"  # the article kept whole in the research folder


def test_every_quote_stands_under_its_own_source(dataset: Dataset) -> None:
    wrong = []
    for where, item in quoted(dataset):
        assert item.quote is not None
        source = dataset.sources[item.source]
        if item.source == CNN_ARTICLE_SOURCE and item.context is None:
            if normalise(item.quote) not in CNN_ARTICLE:
                wrong.append(f"{where} ({item.source}): not in the CNN article: {item.quote!r}")
            continue
        words = item.context or item.quote
        if not passages_with(words):
            wrong.append(f"{where} ({item.source}): not in the research notes: {words!r}")
        elif not stands_under(words, source):
            wrong.append(f"{where} ({item.source}): in the notes, but not under {source.outlet!r}: {words!r}")
    assert not wrong, "quotes not standing under their source:\n" + "\n".join(wrong)


def test_every_stated_country_stands_under_its_claims_source(dataset: Dataset) -> None:
    """A claim's ``country`` rests on the claim's source's own words ("a U.S. base in Jordan")."""
    stated = [(i.id, c) for i in dataset.incidents for c in i.location_claims if c.country is not None]
    assert stated, "the bundled data states a country for Tower 22"
    wrong = []
    for where, claim in stated:
        assert claim.country is not None
        words = claim.country.quote
        if claim.country.name not in words:
            wrong.append(f"{where}/{claim.id}: the quote does not name {claim.country.name!r}: {words!r}")
        elif not stands_under(words, dataset.sources[claim.source]):
            wrong.append(f"{where}/{claim.id}: not under {claim.source!r}: {words!r}")
    assert not wrong, "\n".join(wrong)


def test_a_quote_under_another_source_is_refused(dataset: Dataset) -> None:
    """The check above tells sources apart: the New Arab's January 2017 words are not the LA
    Times', and the Reuters/MEMO words are not the New Arab's."""
    new_arab, la_times = dataset.sources["newarab-rukban-2017-01"], dataset.sources["latimes-2016-06-21"]
    words = "At least seven civilians were killed, the Syrian Observatory for Human Rights said."
    assert stands_under(words, new_arab) and not stands_under(words, la_times)
    memo = "A car bomb killed at least four people and critically injured a number of others today"
    assert stands_under(memo, dataset.sources["memo-2017-01-21"]) and not stands_under(memo, new_arab)


def test_every_incident_rests_on_a_verbatim_quote(dataset: Dataset) -> None:
    without = [i.id for i in dataset.incidents if not any(c.quote for c in i.sources)]
    assert not without, f"incidents without a verbatim quote of any source: {without}"


def test_every_site_coordinate_is_the_sourced_one(dataset: Dataset) -> None:
    for site in dataset.sites.values():
        assert f"{site.lat}" in FACTS and f"{site.lon}" in FACTS, site.id
        for cite in site.sources:
            assert cite.quote is not None
            for part in cite.quote.split():
                assert part in FACTS, f"{site.id}: {part!r}"


def test_every_incident_the_notes_list_is_in_the_dataset(dataset: Dataset) -> None:
    """Read from the notes' own tables and lists: an entry is matched by an incident whose date
    interval meets the entry's and whose title shares a word with it."""
    reported = reported_incidents()
    assert len(reported) >= 37  # the notes' tables were read, not skipped
    missing = []
    for entry in reported:
        words = title_words(entry.title)
        if not any(
            i.date.start <= entry.last and i.date.last >= entry.first and words & title_words(i.title)
            for i in dataset.incidents
        ):
            missing.append(entry.where)
    assert not missing, "incidents of the research notes missing from the data:\n" + "\n".join(missing)


def test_disagreeing_claims_are_all_kept(dataset: Dataset) -> None:
    strike = next(i for i in dataset.incidents if i.id == "2017-06-06-coalition-strike")
    sources = {c.source for c in strike.location_claims}
    assert {"yalibnan-2017-06-07", "grasswire-2017-06-06", "sohr-2017-06-06"} <= sources


def test_claims_quote_their_own_cited_source(dataset: Dataset) -> None:
    for incident in dataset.incidents:
        cited = {c.source for c in incident.sources}
        for claim in incident.location_claims:
            assert claim.source in cited, f"{incident.id}/{claim.id}"
