// The full page at /.
import { showLoadError, startMap } from "./app.js";
import { setupEmbedDialog } from "./embed-dialog.js";

let query = "";
setupEmbedDialog(() => query);
startMap({ onState: (q) => { query = q; } }).catch((error) => {
  showLoadError(error);
  throw error;
});
