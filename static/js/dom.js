// Building DOM from data, safely: text always goes in as text nodes, never as HTML, and only
// http(s) (or same-site) URLs become links.

export function isSafeUrl(url) {
  if (typeof url !== "string" || url === "") return false;
  try {
    const parsed = new URL(url, window.location.href);
    return parsed.protocol === "http:" || parsed.protocol === "https:";
  } catch {
    return false;
  }
}

// el("a", {href: url, class: "x"}, "text", child) -> HTMLElement
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "href") {
      if (isSafeUrl(value)) node.setAttribute("href", value);
    } else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false || child === "") continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// A link if the URL is http(s), otherwise the text alone.
export function linkOrText(url, text) {
  if (!isSafeUrl(url)) return document.createTextNode(text);
  return el("a", { href: url, rel: "noopener noreferrer", target: "_blank" }, text);
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  for (const child of children) node.append(child);
  return node;
}
