// A zoom is over for the reader when Leaflet says so (zoomend, moveend).
//
// Leaflet ends a zoom on its proxy's transitionend or on a 250 ms timer, whichever comes first,
// while each marker and name glides to its new place by a CSS transition of its own. On a loaded
// machine those transitions start late, and a timer or transitionend left over from the zoom
// before ends the next one early: the zoom is "over" while the markers and names still glide (up
// to 250 ms). What our moveend measures then (names giving way to the markers, labels.js; a
// focused marker kept clear of the panels) read their boxes mid-glide: a name was laid out clear
// of where the markers were, and covered one once they landed, until the next move (the
// garrison's at 1440 px after a zoom out). Finished at zoomend, they are where they land first.
export function finishZoomGlides(map) {
  const pane = map.getPane("mapPane");
  if (!pane.getAnimations) return; // a browser without the Web Animations API
  for (const glide of pane.getAnimations({ subtree: true })) {
    if (glide.transitionProperty === "transform") glide.finish();
  }
}
