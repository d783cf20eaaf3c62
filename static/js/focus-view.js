// Keyboard focus on a marker (an incident's or a numbered circle) brings it wholly into the part
// of the map no panel covers (the zoom buttons, the legend, the tile notice, the attribution, the
// card's sheet on a phone), FOCUS_MARGIN px clear, at once. Leaflet's own pan on focus
// (autoPanOnFocus, switched off on every marker) is animated, so the next Tab overtook it, and
// it knows neither a marker drawn aside of its point nor what covers the map: session 25's
// "Clash near Tanf" ended at x=1089 of a map ending at 1040, or flush at its edge, half hidden.
const FOCUS_MARGIN = 12;

// Boxes [x0, y0, x1, y1] (px from the map's top left corner) of these elements, those drawn.
export function boxesOn(map, elements) {
  const corner = map.getContainer().getBoundingClientRect();
  return [...elements].map((e) => e.getBoundingClientRect()).filter((r) => r.width && r.height)
    .map((r) => [r.left - corner.left, r.top - corner.top, r.right - corner.left, r.bottom - corner.top]);
}

// What covers part of the map: its controls, and the card's sheet over a phone's screen.
export function coverings(map) {
  return boxesOn(map, [...map.getContainer().querySelectorAll(".leaflet-control"), ...document.querySelectorAll(".sheet:not([hidden])")]);
}

const meets = (a, b) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
const moved = (b, [dx, dy]) => [b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy];
const along = (lo, hi, min, max) => (lo < min ? min - lo : hi > max ? max - hi : 0);

// The least shift [dx, dy] (px) that puts box wholly within area and clear of every obstacle
// (all [x0, y0, x1, y1]): into the area first, then past each obstacle it meets on one of four
// sides, two obstacles deep (the legend above the notice). With no such place, into the area.
export function clearShift(box, area, obstacles) {
  const start = [along(box[0], box[2], area[0], area[2]), along(box[1], box[3], area[1], area[3])];
  const clear = (s) => {
    const b = moved(box, s);
    return b[0] >= area[0] && b[1] >= area[1] && b[2] <= area[2] && b[3] <= area[3] && !obstacles.some((o) => meets(b, o));
  };
  let tried = [start];
  const found = [start].filter(clear);
  for (let depth = 0; depth < 2 && !found.length; depth += 1) {
    tried = tried.flatMap((s) => {
      const b = moved(box, s);
      return obstacles.filter((o) => meets(b, o)).flatMap((o) => [
        [s[0] + o[0] - b[2], s[1]], [s[0] + o[2] - b[0], s[1]], [s[0], s[1] + o[1] - b[3]], [s[0], s[1] + o[3] - b[1]]]);
    });
    found.push(...tried.filter(clear));
  }
  return found.sort((a, b) => Math.hypot(...a) - Math.hypot(...b))[0] || start;
}

// Pans the map (without animation) until the element is clear; the markers are placed again
// after each pan (moveend), so it measures again, three times at most. A move under way is
// stopped first, and only when there is a pan to make: Leaflet's stop() ends in a moveend even
// where the map stands still, and at scale that loaded the view again and drew its cells anew,
// so a cell reached by Tab lost the focus to the page at once and Enter did nothing.
export function keepInView(map, element) {
  let stopped = false;
  for (let pass = 0; pass < 4; pass += 1) {
    const [box] = boxesOn(map, [element]);
    if (!box) return; // placed again into a numbered circle, which has the focus now
    const m = FOCUS_MARGIN;
    const size = map.getSize();
    const [dx, dy] = clearShift([box[0] - m, box[1] - m, box[2] + m, box[3] + m], [0, 0, size.x, size.y], coverings(map));
    if (Math.abs(dx) < 1 && Math.abs(dy) < 1) return;
    if (stopped) map.panBy([-dx, -dy], { animate: false });
    else map.stop(); // then measured again: the markers were placed again
    stopped = true;
  }
}

// Every marker focused in this map is kept in view. The browser scrolls the map's box (overflow
// hidden) to show a focused element, and Leaflet puts the scroll back later: a marker that
// looked in view then was not (x=2797 in the test). The scroll goes back first, and the marker
// is measured again in the next frame, after the browser's own scrolling.
export function panOnFocus(map) {
  const container = map.getContainer();
  container.addEventListener("focusin", (event) => {
    const marker = event.target instanceof Element ? event.target.closest(".incident-icon, .cell-icon") : null;
    // Only the keyboard's focus: a click focuses what is under the pointer, in view already.
    if (!marker || !marker.matches(":focus-visible")) return;
    const settle = () => {
      container.scrollTop = 0;
      container.scrollLeft = 0;
      if (document.activeElement === marker) keepInView(map, marker);
    };
    settle();
    requestAnimationFrame(settle);
  });
}
