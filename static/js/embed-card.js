// The selected incident's card in an embed: collapsed under the map (the map stays a figure, no
// popup covers it or takes the article's scrolling); its summary line names the incident.
import { buildCard } from "./card.js";
import { el } from "./dom.js";
import { whenText } from "./format.js";

export class EmbedCard {
  constructor(details) {
    this.details = details;
    this.title = details.querySelector("summary");
    this.body = details.querySelector(".embed-card-body");
  }

  holds(element) {
    return Boolean(element) && this.details.contains(element);
  }

  // Collapsed when the embed opens on it; open when the reader picks it in the frame.
  show(marker, from) {
    const p = marker.feature.properties;
    this.title.replaceChildren(el("strong", { dir: "auto" }, p.title), ` — ${whenText(p)}`);
    this.body.replaceChildren(buildCard(marker.feature, { headingLevel: 2, told: true }));
    this.details.hidden = false;
    this.details.open = from !== "init" && from !== "history";
  }

  hide() {
    this.details.hidden = true;
    this.details.open = false;
    this.body.replaceChildren();
  }
}
