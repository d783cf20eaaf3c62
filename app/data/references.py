"""What the records of a data directory say of each other: every cited source, site and country
exists, every claim's source is cited by its incident, every listed source is cited somewhere.

The checks report into the loader's collector (``Report``), each problem naming the file, the
record and the field; a reference to a record that itself failed validation is not reported again
(``invalid_ids``), so one fault gives one problem. ``uncited_sources`` returns what it finds (both
loads report it). Reading and parsing the files is ``app.data.loader``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from app.data.model import Incident, Site, Source, Zone


class Report(Protocol):
    """Where problems go (the loader's collector)."""

    invalid_ids: set[str]

    def add(self, file: str, record: str | None, field: str | None, message: str) -> None: ...


@dataclass(frozen=True)
class Records:
    """The validated records of one directory (or one part of it), by id where they have one."""

    sources: dict[str, Source]
    sites: dict[str, Site]
    zone: Zone | None
    incidents: list[Incident]
    borders: dict[str, Any]  # GeoJSON FeatureCollection, already checked; {} if it was refused


def check_references(
    c: Report, records: Records, sites_file: str, zone_file: str, incident_files: dict[str, str]
) -> None:
    """Every source, site and country a record names exists (``*_file``: how problems name files;
    ``incident_files``: incident id → its file)."""
    sources, sites = records.sources, records.sites
    if records.zone is not None:
        _check_zone(c, zone_file, records.zone, sites, sources)
    for site in sites.values():
        for cite in site.sources:
            if cite.source not in sources and cite.source not in c.invalid_ids:
                c.add(sites_file, site.id, "sources.source", f"unknown source {cite.source!r}")
    countries = _country_names(records.borders)
    for incident in records.incidents:
        _check_incident(c, incident_files[incident.id], incident, sites, sources, countries)


UNCITED = "source is not cited by any incident, site or the zone"


def uncited_sources(records: Records, also_cited: Iterable[str] = ()) -> list[str]:
    """The ids of the listed sources that no incident, site or the zone cites (each one a problem,
    ``UNCITED``): either a record that should cite it is missing, or the entry is left over
    (geodata/README.md). Only for a whole directory whose records are all valid: a part, or an
    invalid record, may be what cites it. ``also_cited``: the sources cited by valid incidents not
    in ``records`` (a load that read only the files that changed, ``app.data.pg_load``)."""
    cited = set(also_cited) | {cite.source for site in records.sites.values() for cite in site.sources}
    if records.zone is not None:
        cited |= {cite.source for cite in records.zone.sources}
        cited |= {cite.source for v in records.zone.variants for cite in v.sources}
    for incident in records.incidents:
        cited |= {cite.source for cite in incident.sources}
    return [source_id for source_id in records.sources if source_id not in cited]


def _country_names(borders: dict[str, Any]) -> set[str]:
    """The names a claim's ``country`` may use: those of the bundled borders' features."""
    return {
        str(f.get("properties", {}).get("name")) for f in borders.get("features", []) if isinstance(f, dict)
    }


def _check_zone(c: Report, path: str, zone: Zone, sites: dict[str, Site], sources: dict[str, Source]) -> None:
    if zone.centre not in sites and zone.centre not in c.invalid_ids:
        c.add(path, zone.id, "centre", f"unknown site {zone.centre!r}")
    cites = [("sources", s) for s in zone.sources]
    cites += [(f"variants.{v.id}.sources", s) for v in zone.variants for s in v.sources]
    for field, cite in cites:
        if cite.source not in sources and cite.source not in c.invalid_ids:
            c.add(path, zone.id, f"{field}.source", f"unknown source {cite.source!r}")


def _check_incident(
    c: Report,
    path: str,
    incident: Incident,
    sites: dict[str, Site],
    sources: dict[str, Source],
    countries: set[str],
) -> None:
    cited = {cite.source for cite in incident.sources}
    for i, cite in enumerate(incident.sources):
        if cite.source not in sources and cite.source not in c.invalid_ids:
            c.add(path, incident.id, f"sources.{i}.source", f"unknown source {cite.source!r}")
    for i, fat in enumerate(incident.fatalities):
        if fat.source not in cited:
            c.add(path, incident.id, f"fatalities.{i}.source", f"{fat.source!r} is not cited")
    claim_ids: set[str] = set()
    for i, claim in enumerate(incident.location_claims):
        where = f"location_claims.{i}"
        if claim.id in claim_ids:
            c.add(path, incident.id, f"{where}.id", f"duplicate claim id {claim.id!r}")
        claim_ids.add(claim.id)
        if claim.source not in cited:
            c.add(path, incident.id, f"{where}.source", f"{claim.source!r} is not cited")
        named = [("from_sites", s) for s in claim.from_sites]
        named += [("near.sites", s) for s in (claim.near.sites if claim.near else [])]
        for field, site in named:
            if site not in sites and site not in c.invalid_ids:
                c.add(path, incident.id, f"{where}.{field}", f"unknown site {site!r}")
        if claim.country is not None and claim.country.name not in countries:
            known = ", ".join(sorted(countries)) or "none"
            c.add(
                path,
                incident.id,
                f"{where}.country.name",
                f"unknown country {claim.country.name!r} (borders: {known})",
            )
