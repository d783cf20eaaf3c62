// Words and numbers for readers.

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
  "September", "October", "November", "December"];

export function dayText(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return `${d} ${MONTHS[m - 1]} ${y}`;
}

export function monthText(iso) {
  const [y, m] = iso.split("-").map(Number);
  return `${MONTHS[m - 1]} ${y}`;
}

const PRECISION = {
  day: "exact day",
  days: "over several days",
  month: "within the month",
  approximate: "approximate dates",
};

// "8 June 2017" or "13 June 2017 – 14 June 2017 (over several days)"
export function whenText(props) {
  const span = props.date_start === props.date_end
    ? dayText(props.date_start)
    : `${dayText(props.date_start)} – ${dayText(props.date_end)}`;
  const precision = PRECISION[props.date_precision];
  return precision && props.date_precision !== "day" ? `${span} (${precision})` : span;
}

// What each ACLED event type means to a reader (the legend, the filters, the card; the ACLED
// term stays in the API and in a title attribute for analysts; app/export/legend.py's TYPE_WORDS).
export const TYPE_WORDS = {
  "Explosions/Remote violence": "air strike, shelling, drone or bomb",
  Battles: "fighting on the ground",
  "Strategic developments": "moves, deployments and other events",
  "Violence against civilians": "violence against civilians",
};

// ACLED's sub-event types in a reader's words ("Other" says nothing: the type's words stand).
export const SUB_TYPE_WORDS = {
  "Air/drone strike": "air or drone strike",
  "Armed clash": "armed clash",
  "Change to group/activity": "a group moves or changes what it does",
  "Disrupted weapons use": "a weapon stopped or shot down",
  "Remote explosive/landmine/IED": "bomb, mine or roadside bomb",
  "Shelling/artillery/missile attack": "shelling, artillery or missile attack",
  "Headquarters or base established": "a headquarters or base set up",
  "Non-violent transfer of territory": "ground changes hands without fighting",
  "Government regains territory": "government forces retake ground",
  Agreement: "an agreement",
  Attack: "an attack",
  Grenade: "a grenade",
};

const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);

// What happened, in plain words: the sub-event type's where it says more, else the type's.
export function typeText(props) {
  return capital(SUB_TYPE_WORDS[props.sub_event_type] || TYPE_WORDS[props.event_type] || props.event_type);
}

export const STATUS_TEXT = {
  inside: "Inside the zone",
  outside: "Outside the zone",
  uncertain: "Uncertain whether inside the zone",
  contested: "Contested: sources disagree",
};
// One source's own answer (source_answers[].allows).
export const ALLOWS_TEXT = { inside: "inside", outside: "outside", across: "across the edge" };

export function percent(p) {
  if (p === null || p === undefined) return "";
  const value = p * 100;
  if (value > 0 && value < 1) return "<1%";
  if (value < 100 && value > 99) return ">99%";
  return `${Math.round(value)}%`;
}

export function areaText(km2) {
  if (km2 === null || km2 === undefined) return "";
  if (km2 < 1) return `${(km2 * 100).toFixed(0)} ha`;
  return `${km2 < 1000 ? km2.toFixed(1) : Math.round(km2).toLocaleString("en")} km²`;
}

// "12 inside, 5 uncertain, 2 contested, 4 outside" (app/web/state.py words it the same way)
export const STATUSES = ["inside", "uncertain", "contested", "outside"];
export function statusCounts(features) {
  const counts = { inside: 0, uncertain: 0, contested: 0, outside: 0 };
  for (const f of features) counts[f.properties.zone_status] += 1;
  return STATUSES.map((s) => `${counts[s]} ${s}`).join(", ");
}
