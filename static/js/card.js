// The incident card: the same DOM in the map popup and in the list.
import { el, linkOrText } from "./dom.js";
import { areaText, percent, STATUS_TEXT, typeText, whenText } from "./format.js";

// The answer to "inside the zone?" in the server's words (app/data/answer.py), then what the
// share means and where it lies, so the card, the SVG and the export say the same thing.
function statusLine(props) {
  const more = [props.zone_share_text, props.place_note].filter(Boolean).join(" ");
  return el("div", { class: `status status-${props.zone_status}` },
    el("p", { class: "answer" }, props.zone_answer),
    more ? el("p", { class: "answer-more" }, more) : null);
}

function quote(text, fallback) {
  if (text) return el("blockquote", { dir: "auto" }, `“${text}”`);
  // Why there is no quote is the editors' note (the API keeps it); a reader is told only that.
  return fallback ? el("p", { class: "no-quote" }, "No verbatim wording of this report is available.") : null;
}

function sourceName(src) {
  return el("bdi", {}, linkOrText(src.url, src.outlet));
}

function claimItem(claim, sourcesById) {
  const src = sourcesById.get(claim.source_id) || { outlet: claim.outlet, url: claim.url };
  const where = claim.unmapped
    ? `not drawn: ${claim.unmapped}`
    : [STATUS_TEXT[claim.zone_status], claim.p_inside !== null ? `${percent(claim.p_inside)} inside` : "",
      areaText(claim.area_km2), claim.country_words || ""].filter(Boolean).join(" · ");
  return el("li", { class: "claim" },
    el("p", {}, el("strong", { dir: "auto" }, claim.text), " — ", where),
    quote(claim.quote, claim.no_quote_reason),
    el("p", { class: "cite" }, "— ", sourceName(src)));
}

function sourceItem(src) {
  const meta = [src.date, src.title ? `“${src.title}”` : ""].filter(Boolean).join(", ");
  return el("li", { class: "source" },
    el("p", {}, el("strong", {}, sourceName(src)), meta ? [" (", el("bdi", {}, meta), ")"] : ""),
    quote(src.quote, src.no_quote_reason),
    // A source's note records how its wording reached the project: for editors (in the API).
    null);
}

// told: the line that opens the card (the list's, the embed's) already names the incident and
// its date: the card's heading is for screen readers only and its date is not said again.
export function buildCard(feature, { headingLevel = 3, told = false } = {}) {
  const p = feature.properties;
  const sourcesById = new Map(p.sources.map((s) => [s.source_id, s]));
  const fatalities = p.fatalities.length
    ? el("div", {}, el("h4", {}, "Reported deaths"),
      el("ul", {}, p.fatalities.map((f) => el("li", { dir: "auto" }, `${sourcesById.get(f.source)?.outlet || f.source}: ${f.text}`))))
    : null;
  return el("article", { class: "card", "data-id": feature.id },
    el(`h${headingLevel}`, { class: `card-title${told ? " told" : ""}`, dir: "auto" }, p.title),
    // What happened in plain words; ACLED's terms for analysts (and in the API).
    el("p", { class: "meta", title: `ACLED: ${p.event_type} / ${p.sub_event_type}` },
      told ? typeText(p) : [whenText(p), " · ", typeText(p)]),
    statusLine(p),
    el("p", { class: "summary-text", dir: "auto" }, p.summary),
    p.unconfirmed ? el("p", { class: "unconfirmed", dir: "auto" }, el("strong", {}, "Unconfirmed: "), p.unconfirmed) : null,
    el("p", { class: "actors" }, el("strong", {}, "Actors: "), p.actors.map((a, i) => [i ? "; " : "", el("bdi", {}, a)])),
    fatalities,
    el("h4", {}, "Where, according to each source"),
    p.location_claims.length
      ? el("ul", { class: "claims" }, p.location_claims.map((c) => claimItem(c, sourcesById)))
      : el("p", {}, "No source gives a location."),
    el("h4", {}, "Sources"),
    el("ol", { class: "sources" }, p.sources.map(sourceItem)),
    p.note ? el("p", { class: "note", dir: "auto" }, p.note) : null);
}
