// The embed: the same map (app.js) with less chrome; it tells the host page its height.
import { showLoadError, startMap } from "./app.js";
import { appPath } from "./urls.js";

// WordPress (wp-includes/js/wp-embed.js) gives its frames a secret in the URL's fragment,
// "#?secret=…" (appended to any fragment already there, so the last one counts), posts
// {message: "ready", secret} and listens for {message: "height" | "link", value, secret}.
function secretFromHash() {
  const found = [...window.location.hash.matchAll(/secret=([A-Za-z0-9]+)/g)];
  return found.length ? found[found.length - 1][1] : null;
}

let wordpressSecret = secretFromHash();
const inFrame = window.parent !== window;

function tellWordPress(message, value) {
  if (inFrame && wordpressSecret) window.parent.postMessage({ message, value, secret: wordpressSecret }, "*");
}

// The page's height unscrolled: the time controls scroll in a frame too short for them
// (embed.css), and a host that resizes its frames grows it to show them whole.
function reportHeight() {
  if (!inFrame) return;
  const controls = document.getElementById("controls");
  const hidden = controls && !controls.hidden ? controls.scrollHeight - controls.clientHeight : 0;
  const height = Math.ceil(document.documentElement.scrollHeight + hidden);
  window.parent.postMessage({ type: "at-tanf-map:height", height }, "*");
  tellWordPress("height", height);
}

window.addEventListener("hashchange", () => {
  wordpressSecret = secretFromHash();
  reportHeight();
});
window.addEventListener("message", (event) => {
  const data = event.data;
  if (event.source !== window.parent || !data || data.message !== "ready") return;
  if (!wordpressSecret) wordpressSecret = secretFromHash();
  if (data.secret === wordpressSecret) reportHeight();
});

// In WordPress's sandbox (no popups) a link to this site is followed by WordPress itself, which
// opens it in the top window when it comes from the frame the reader is using. Links elsewhere
// (the sources) keep their own behaviour: they need the host to allow popups.
document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
  if (!link || !wordpressSecret || !inFrame) return;
  if (event.button !== 0 || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
  const target = new URL(link.href, window.location.href);
  if (target.host !== window.location.host || !/^https?:$/.test(target.protocol)) return;
  event.preventDefault();
  tellWordPress("link", target.href);
});

new ResizeObserver(reportHeight).observe(document.body);
const fullMap = document.getElementById("full-map");
startMap({
  embed: true,
  onState: (query) => { fullMap.href = appPath(`/${query}`); },
  onReady: reportHeight,
}).catch((error) => {
  showLoadError(error);
  throw error;
});
