// The embed: the same map (app.js) with less chrome; it tells the host page its height.
import { showLoadError, startMap } from "./app.js";

// WordPress passes "#?secret=…" and listens for {message: "height", value, secret}.
const wordpressSecret = new URLSearchParams(window.location.hash.replace(/^#\??/, "")).get("secret");

function reportHeight() {
  const height = Math.ceil(document.documentElement.scrollHeight);
  if (window.parent === window) return;
  window.parent.postMessage({ type: "at-tanf-map:height", height }, "*");
  if (wordpressSecret) window.parent.postMessage({ message: "height", value: height, secret: wordpressSecret }, "*");
}

new ResizeObserver(reportHeight).observe(document.body);
const fullMap = document.getElementById("full-map");
startMap({
  embed: true,
  onState: (query) => { fullMap.href = `/${query}`; },
  onReady: reportHeight,
}).catch((error) => {
  showLoadError(error);
  throw error;
});
