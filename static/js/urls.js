// Every URL the front end builds starts from the page's public base URL, which the server puts
// in <body data-public-url> (app/urls.py: the configured --public-url, or this request's own,
// e.g. "https://maps.example.org/tanf"): requests go to its path on this site, and the embed
// code the reader copies to another site gets the absolute URL.
const publicUrl = new URL(document.body.dataset.publicUrl || window.location.origin);
const prefix = publicUrl.pathname.replace(/\/+$/, "");

// appPath("/api/locate") -> "/tanf/api/locate": same-site requests and links.
export function appPath(path) {
  return prefix + path;
}

// absoluteUrl("/embed?x=1") -> "https://maps.example.org/tanf/embed?x=1": for other sites.
export function absoluteUrl(path) {
  return publicUrl.origin + prefix + path;
}
