// The full page at /.
import { showLoadError, startMap } from "./app.js";
import { setupEmbedDialog } from "./embed-dialog.js";

// The skip link moves focus to the list without putting "#incidents" into the address (and so
// into every link copied from it); without JavaScript it is a plain link.
function setupSkipLink() {
  const skip = document.querySelector("a.skip");
  skip?.addEventListener("click", (event) => {
    event.preventDefault();
    document.getElementById("incidents").focus();
  });
}

function setupAbout() {
  const button = document.getElementById("about-button");
  const panel = document.getElementById("about");
  const show = (open) => {
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    (open ? panel.querySelector("h2") : button).focus();
  };
  panel.querySelector("h2").setAttribute("tabindex", "-1");
  button.addEventListener("click", () => show(panel.hidden));
  document.getElementById("about-close").addEventListener("click", () => show(false));
  panel.addEventListener("keydown", (e) => e.key === "Escape" && show(false));
}

let query = "";
setupAbout();
setupSkipLink();
setupEmbedDialog(() => query);
startMap({ onState: (q) => { query = q; } }).catch((error) => {
  showLoadError(error);
  throw error;
});
