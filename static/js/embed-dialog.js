// "Embed this map": the iframe snippet for the current view, with a preview and a copy button.
import { el } from "./dom.js";
import { absoluteUrl } from "./urls.js";

// The height the time controls take in the embed (app/web/embed.py TIMELINE_HEIGHT, which oEmbed
// adds to its frame): the dialog adds it too when the timeline is ticked, so the map keeps its
// size (in a 450 px frame the controls left the map its 200 px minimum).
export const TIMELINE_HEIGHT = 460;

function snippet(src, width, height, title) {
  const safeTitle = title.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;");
  return `<iframe src="${src}" width="${width}" height="${height}" title="${safeTitle}" style="border:0;max-width:100%" loading="lazy" allowfullscreen></iframe>`
    + `\n<script async src="${absoluteUrl("/embed/host.js")}"></script>`;
}

export function setupEmbedDialog(currentQuery) {
  const button = document.getElementById("embed-button");
  const dialog = document.getElementById("embed-dialog");
  if (!button || !dialog) return;
  const width = dialog.querySelector("#embed-width");
  const height = dialog.querySelector("#embed-height");
  const list = dialog.querySelector("#embed-list");
  const timeline = dialog.querySelector("#embed-timeline");
  const code = dialog.querySelector("#embed-code");
  const preview = dialog.querySelector("#embed-preview");
  const status = dialog.querySelector("#embed-status");

  function update() {
    const q = new URLSearchParams(currentQuery().replace(/^\?/, ""));
    if (list.checked) q.set("list", "1");
    if (timeline.checked) q.set("timeline", "1");
    const query = q.toString().replaceAll("%2C", ",");
    const src = absoluteUrl(`/embed${query ? `?${query}` : ""}`);
    const w = Math.max(280, Math.min(1600, Number(width.value) || 600));
    const h = Math.max(240, Math.min(1600, Number(height.value) || 450));
    const title = document.getElementById("summary").textContent;
    code.value = snippet(src, w, h, title);
    preview.replaceChildren(el("iframe", { src, width: Math.min(w, 560), height: Math.min(h, 360), title, class: "preview-frame" }));
  }

  button.addEventListener("click", () => {
    update();
    dialog.showModal();
  });
  timeline.addEventListener("change", () => {
    const h = Number(height.value) || 450;
    height.value = String(Math.max(240, Math.min(1600, h + (timeline.checked ? TIMELINE_HEIGHT : -TIMELINE_HEIGHT))));
  });
  for (const input of [width, height, list, timeline]) input.addEventListener("change", update);
  dialog.querySelector("#embed-copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(code.value);
      status.textContent = "Copied.";
    } catch {
      code.select();
      status.textContent = "Select and copy the code (Ctrl+C / ⌘C).";
    }
  });
  dialog.querySelector("#embed-close").addEventListener("click", () => dialog.close());
}
