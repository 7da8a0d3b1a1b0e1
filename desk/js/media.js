// Attachments (images, documents) go through the media API: POST /media for an upload form,
// then the release's "media" list names the verified files. Until the API has it, no release
// schema has a "media" field and this is never called; when it does, this is where the upload
// control goes (one row per file: file input, role, alt text, caption, credit).
import { h } from "./dom.js";

export function mediaField(path, spec) {
  return h(
    "fieldset",
    { class: "group", dataset: { field: path } },
    h("legend", {}, "Attachments"),
    h("p", { class: "hint" }, spec.description || "Images and documents are not yet supported by this desk."),
  );
}
