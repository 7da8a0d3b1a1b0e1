// Attachments (images, documents) go through the media API: POST /media for an upload form,
// then the release's "media" list names the verified files. The API has it; this is where the
// upload control goes (one row per file: file input, role, alt text, caption, credit).
import { h } from "./dom.js";

export function mediaField(path, spec) {
  return h(
    "fieldset",
    { class: "group", dataset: { field: path } },
    h("legend", {}, "Attachments"),
    // The API takes attachments now (POST /media, a release's "media"), this desk not yet: say
    // where they can be added instead of showing the API's description of a field it cannot fill.
    h("p", { class: "hint" }, "This desk cannot attach images or documents yet: upload them with the media API (POST /media) or press-intake media upload, then add them to the release through the API."),
  );
}
