// Attachments (images, documents) through the media API: POST /media declares a file and answers
// a presigned upload form; the browser POSTs the file to that form's URL (the uploads bucket, which
// allows the desk's origin by CORS; the key never goes there); GET /media/{id} then says when the
// newsroom's check is done: ready, or rejected with the reason. The release's "media" list names
// the attachments with their role, alt text, caption and credit (limits from the API's schema).
import { ApiError, call } from "./api.js";
import { announce, h, replace } from "./dom.js";
import { normalise, resolve } from "./schema.js";

const POLL_MS = [500, 1000, 1000, 2000]; // then every 2 s
const GIVE_UP_MS = 5 * 60 * 1000;
const TYPE_NAMES = { "image/jpeg": "JPEG image", "image/png": "PNG image", "image/webp": "WebP image", "application/pdf": "PDF document" };
const ROLE_LABELS = { featured: "Featured (at the top)", gallery: "Gallery", document: "Document (a download)" };

const isImage = (type) => String(type || "").startsWith("image/");
const UNUSABLE = ["rejected", "failed"]; // such a row offers only its reason and "Remove"

export function size(bytes) {
  if (bytes === undefined || bytes === null) return "";
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024).toLocaleString("en")} KB`;
  return `${(bytes / (1024 * 1024)).toLocaleString("en", { maximumFractionDigits: 1 })} MB`;
}

// The upload's declaration schema (POST /media): which types the API takes.
function uploadTypes(doc) {
  const body = doc.paths?.["/media"]?.post?.requestBody?.content?.["application/json"]?.schema;
  const schema = resolve(doc, body);
  return normalise(doc, schema.properties?.content_type || {}).enum || Object.keys(TYPE_NAMES);
}

function s3Message(text) {
  const match = /<Message>([^<]*)<\/Message>/.exec(text || "");
  return match ? match[1] : "";
}

let rowCounter = 0;

// One attachment: what it is (the media's view from the API), where its check is, what was typed.
class Row {
  constructor({ media = null, file = null, values = {}, uploadedHere = false }) {
    this.key = (rowCounter += 1);
    this.media = media; // GET /media/{id}'s answer, once known
    this.file = file;
    this.values = values; // { id, role, alt, caption, credit }
    this.uploadedHere = uploadedHere;
    this.phase = media ? media.status : "loading"; // uploading | verifying | ready | rejected | failed | loading
    this.message = "";
    this.timer = null;
    this.statusElement = null;
  }

  get id() {
    return this.values.id || this.media?.id;
  }

  get contentType() {
    return this.media?.content_type || this.file?.type || "";
  }

  get name() {
    return this.media?.filename || this.file?.name || this.id;
  }
}

export class MediaField {
  // form: the ReleaseForm, whose field registry shows the API's errors next to these fields.
  constructor(doc, path, spec, form) {
    this.doc = doc;
    this.path = path;
    this.spec = spec;
    this.form = form;
    this.itemSpec = normalise(doc, spec.items);
    this.max = spec.maxItems ?? 10;
    this.types = uploadTypes(doc);
    this.rows = [];
    this.stopped = false;
    this.list = h("div", { class: "repeat-items attachments" });
    this.error = h("p", { class: "field-error", id: "f-media-error", hidden: true });
    this.fileError = h("p", { class: "field-error", id: "media-file-error", role: "alert", hidden: true });
    this.input = h("input", {
      type: "file",
      id: "media-file",
      name: "media-file",
      accept: this.types.join(","),
      "aria-describedby": "media-file-hint media-file-error",
    });
    this.input.addEventListener("change", () => this.add([...this.input.files]));
    this.adder = h(
      "div",
      { class: "field field-file" },
      h("label", { for: "media-file" }, "Add an image or a PDF"),
      h("p", { class: "hint", id: "media-file-hint" }, `${this.types.map((t) => TYPE_NAMES[t] || t).join(", ")}: images at most 10 MB (40 megapixels), PDFs at most 20 MB. The newsroom checks each file before it can be attached; only its checked copies are ever published.`),
      this.input,
      this.fileError,
    );
    this.element = h(
      "fieldset",
      { class: "group attachments-group", dataset: { field: path }, "aria-describedby": "f-media-limit f-media-error" },
      h("legend", {}, "Attachments", h("span", { class: "optional" }, " (optional)")),
      h("p", { class: "limit", id: "f-media-limit" }, `Limit: at most ${this.max} attachments; images need a text alternative (alt text).`),
      this.error,
      this.list,
      this.adder,
    );
    form.fields.set(path, { wrapper: this.element, control: this.element, error: this.error, spec, kind: "group", required: false });
  }

  // -- what the release sends -------------------------------------------------------------------

  collect() {
    this.readValues();
    const items = this.rows.filter((row) => row.id).map((row) => {
      const item = { id: row.id, role: row.values.role };
      for (const name of ["alt", "caption", "credit"]) {
        const value = (row.values[name] || "").trim();
        if (value) item[name] = value;
      }
      return item;
    });
    return items.length ? items : undefined;
  }

  // Rows the API would refuse as they are: still being checked, refused, or failed to upload.
  problems() {
    return this.rows.flatMap((row, index) => {
      const target = this.list.children[index]?.querySelector("select, input, button");
      const label = `Attachment ${index + 1} (${row.name})`;
      if (["uploading", "verifying", "loading"].includes(row.phase)) return [{ field: `${this.path}.${index}`, label, message: "still being checked: wait until it is ready", target }];
      if (row.phase === "rejected" || row.phase === "failed") return [{ field: `${this.path}.${index}`, label, message: "it cannot be attached: remove it", target }];
      return [];
    });
  }

  // The attachments a release already has (a draft, or what this tab submitted before).
  fill(items) {
    this.stopRows();
    this.rows = (items || []).map((item) => new Row({ values: { ...item } }));
    this.render();
    for (const row of this.rows) this.follow(row, 0);
  }

  // -- rows ---------------------------------------------------------------------------------------

  readValues() {
    for (const row of this.rows) {
      const index = this.rows.indexOf(row);
      for (const name of ["role", "alt", "caption", "credit"]) {
        const field = this.form.fields.get(`${this.path}.${index}.${name}`);
        if (field) row.values[name] = field.control.value;
      }
    }
  }

  defaultRole(type) {
    if (!isImage(type)) return "document";
    this.readValues();
    return this.rows.some((row) => row.values.role === "featured") ? "gallery" : "featured";
  }

  render() {
    for (const key of [...this.form.fields.keys()]) if (key.startsWith(`${this.path}.`)) this.form.fields.delete(key);
    replace(this.list, this.rows.map((row, index) => this.rowElement(row, index)));
    this.adder.hidden = this.rows.length >= this.max;
  }

  rowElement(row, index) {
    const itemPath = `${this.path}.${index}`;
    const props = this.itemSpec.properties || {};
    const error = h("p", { class: "field-error", id: `f-media-${index}-error`, hidden: true });
    row.statusElement = h("p", { class: "media-status", role: "status", id: `f-media-${index}-status`, dataset: { phase: row.phase } });
    this.showPhase(row);
    const legend = h("legend", {}, `Attachment ${index + 1}`, h("span", { class: "file-name" }, `: ${row.name}`));
    const item = h("fieldset", { class: "item attachment", dataset: { field: itemPath, mediaId: row.id || "" }, "aria-describedby": `${row.statusElement.id} ${error.id}` }, legend, row.statusElement, error);
    this.form.fields.set(itemPath, { wrapper: item, control: item, error, spec: this.itemSpec, kind: "item" });
    const remove = h("button", { type: "button", class: "secondary remove" }, `Remove attachment ${index + 1}`);
    remove.addEventListener("click", () => this.remove(row));
    if (UNUSABLE.includes(row.phase) || row.phase === "loading") {
      item.append(remove); // until its type is known (loading), or for good (refused)
      return item;
    }

    const image = isImage(row.contentType);
    const roleSpec = normalise(this.doc, props.role || {});
    const roles = (roleSpec.enum || ["featured", "gallery", "document"]).filter((role) => (image ? role !== "document" : role === "document"));
    const role = this.form.single(`${itemPath}.role`, { ...roleSpec, enum: roles, description: "" }, true, "select");
    const roleControl = this.form.fields.get(`${itemPath}.role`).control;
    for (const option of roleControl.options) option.textContent = ROLE_LABELS[option.value] || option.value;
    roleControl.value = roles.includes(row.values.role) ? row.values.role : roles[0];
    item.append(role);
    for (const name of ["alt", "caption", "credit"]) {
      if (name === "alt" && !image) continue; // a document needs none
      if (!props[name]) continue;
      const spec = normalise(this.doc, props[name]);
      const field = this.form.single(`${itemPath}.${name}`, spec, name === "alt", "text");
      if (name === "alt") {
        const label = field.querySelector("label");
        replace(label, "Text alternative (alt text)", h("span", { class: "required" }, " (required for images)"));
        const hint = field.querySelector(".hint");
        if (hint) hint.textContent = "What the image shows, for readers who cannot see it: e.g. \"Jane Doe at the Acme offices\".";
      }
      this.form.fields.get(`${itemPath}.${name}`).control.value = row.values[name] || "";
      this.form.count(this.form.fields.get(`${itemPath}.${name}`).control);
      item.append(field);
    }
    item.append(remove);
    return item;
  }

  showPhase(row) {
    const element = row.statusElement;
    if (!element) return;
    const media = row.media;
    const type = TYPE_NAMES[row.contentType] || row.contentType;
    let text;
    switch (row.phase) {
      case "loading":
        text = "Looking the file up…";
        break;
      case "uploading":
        text = `Uploading ${row.name} (${size(row.file?.size)})…`;
        break;
      case "awaiting_upload":
      case "verifying":
        text = "Uploaded. The newsroom is checking the file…";
        break;
      case "ready": {
        const dims = media?.width ? `, ${media.width} × ${media.height} pixels` : media?.pages ? `, ${media.pages} ${media.pages === 1 ? "page" : "pages"}` : "";
        text = `Ready: ${type}${dims}, ${size(media?.bytes)}.`;
        break;
      }
      case "rejected":
        text = `Refused by the check: ${media?.reason_detail || "the file is not accepted"} (${media?.reason || "rejected"}). Remove it and attach another file.`;
        break;
      default:
        text = row.message || "The upload failed.";
    }
    element.textContent = text;
    element.dataset.phase = row.phase;
    element.classList.toggle("media-refused", row.phase === "rejected" || row.phase === "failed");
  }

  setPhase(row, phase, message = "") {
    const rebuild = UNUSABLE.includes(phase) !== UNUSABLE.includes(row.phase);
    const index = this.rows.indexOf(row);
    const focused = this.list.children[index]?.contains(document.activeElement);
    if (rebuild) this.readValues();
    row.phase = phase;
    row.message = message;
    if (rebuild) {
      this.render(); // a refused file keeps only its reason and "Remove"
      if (focused) this.list.children[index]?.querySelector("button.remove")?.focus();
    } else {
      this.showPhase(row);
    }
    if (["ready", "rejected", "failed"].includes(phase)) announce(`${row.name}: ${row.statusElement?.textContent || phase}`);
    // The draft and the preview follow what the attachments are now.
    this.element.dispatchEvent(new Event("input", { bubbles: true }));
  }

  async add(files) {
    this.fileError.hidden = true;
    this.input.removeAttribute("aria-invalid");
    const room = this.max - this.rows.length;
    if (files.length > room) {
      this.showFileError(`At most ${this.max} attachments: ${room ? `room for ${room} more` : "remove one first"}.`);
      files = files.slice(0, Math.max(room, 0));
    }
    for (const file of files) await this.upload(file);
    this.input.value = "";
  }

  showFileError(message) {
    this.fileError.textContent = message;
    this.fileError.hidden = false;
    this.input.setAttribute("aria-invalid", "true");
  }

  async upload(file) {
    let created;
    try {
      ({ body: created } = await call("POST", "/media", { body: { filename: file.name, content_type: file.type || "application/octet-stream", bytes: file.size } }));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const detail = error.fieldErrors.length ? error.fieldErrors.map((e) => `${e.field}: ${e.message}`).join("; ") : error.summary;
      this.showFileError(`${file.name} cannot be attached: ${detail}`);
      return;
    }
    const row = new Row({ file, media: null, values: { id: created.id, role: this.defaultRole(file.type) }, uploadedHere: true });
    row.media = created;
    row.phase = "uploading";
    this.readValues();
    this.rows.push(row);
    this.render();
    announce(`Uploading ${file.name}.`);
    const form = new FormData();
    for (const [name, value] of Object.entries(created.upload.fields)) form.append(name, value);
    form.append("file", file);
    let response;
    try {
      // The uploads bucket's own form: no key, no cookie, no referrer goes there.
      response = await fetch(created.upload.url, { method: "POST", body: form, mode: "cors", credentials: "omit", referrerPolicy: "no-referrer", cache: "no-store" });
    } catch {
      this.setPhase(row, "failed", `The upload of ${file.name} did not reach the newsroom's storage. Check your connection, remove it and try again.`);
      return;
    }
    if (!response.ok) {
      const reason = s3Message(await response.text().catch(() => ""));
      this.setPhase(row, "failed", `The newsroom's storage refused the upload of ${file.name} (HTTP ${response.status}${reason ? `: ${reason}` : ""}). Remove it and try again.`);
      return;
    }
    this.setPhase(row, "verifying");
    this.follow(row, 0);
  }

  // GET /media/{id} until the check is done (ready or rejected).
  follow(row, attempt, started = Date.now()) {
    if (this.stopped || !this.rows.includes(row)) return;
    const wait = attempt === 0 ? 0 : POLL_MS[Math.min(attempt - 1, POLL_MS.length - 1)];
    row.timer = window.setTimeout(async () => {
      if (this.stopped || !this.rows.includes(row)) return;
      try {
        const { body } = await call("GET", `/media/${encodeURIComponent(row.id)}`);
        row.media = body;
        const legendName = this.list.children[this.rows.indexOf(row)]?.querySelector(".file-name");
        if (legendName) legendName.textContent = `: ${row.name}`;
        if (body.status === "ready" || body.status === "rejected") {
          if (row.phase === "loading") {
            // Known now: its type decides its fields (images have alt text).
            this.readValues();
            row.phase = body.status;
            this.render();
            this.element.dispatchEvent(new Event("input", { bubbles: true }));
          } else {
            this.setPhase(row, body.status);
          }
          return;
        }
        if (row.phase === "loading") {
          this.readValues();
          row.phase = "verifying";
          this.render();
        }
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (error.status === 404) {
          this.setPhase(row, "failed", "This attachment is gone (an upload nobody finished is deleted after a day): remove it and attach the file again.");
          return;
        }
        if (error.status !== 429 && error.status < 500) {
          this.setPhase(row, "failed", error.summary);
          return;
        }
      }
      if (Date.now() - started > GIVE_UP_MS) {
        this.setPhase(row, "failed", "The check is taking too long. Remove it and try again later.");
        return;
      }
      this.follow(row, attempt + 1, started);
    }, wait);
  }

  async remove(row) {
    this.readValues();
    const index = this.rows.indexOf(row);
    window.clearTimeout(row.timer);
    this.rows.splice(index, 1);
    this.render();
    this.element.dispatchEvent(new Event("input", { bubbles: true }));
    announce(`Attachment ${row.name} removed.`);
    (this.list.children[Math.min(index, this.rows.length - 1)]?.querySelector("select, input") || this.input).focus();
    if (row.uploadedHere && row.id) {
      // Nothing else uses a file uploaded for this draft: the API may delete it (a file a
      // release uses stays, and that refusal is fine: the release keeps it until revised).
      call("DELETE", `/media/${encodeURIComponent(row.id)}`).catch(() => {});
    }
  }

  stopRows() {
    for (const row of this.rows) window.clearTimeout(row.timer);
  }

  stop() {
    this.stopped = true;
    this.stopRows();
  }
}
