// For publishers: resizes At Tanf map iframes to the height their content reports.
// <script async src="https://…/embed/host.js"></script> anywhere on the page.
(function () {
  if (window.__atTanfHost) return;
  window.__atTanfHost = true;
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || data.type !== "at-tanf-map:height") return;
    var height = Math.max(150, Math.min(4000, Number(data.height) || 0));
    var frames = document.getElementsByTagName("iframe");
    for (var i = 0; i < frames.length; i += 1) {
      if (frames[i].contentWindow === event.source) frames[i].style.height = height + "px";
    }
  });
})();
