// The release form, built from a category's schema in the API's OpenAPI document: one control per
// field with its label, its description, its limits and (after a refused submission) the API's
// own error for it. Field paths are the API's: "headline", "details.role", "links.0.url".

import { h, replace } from "./dom.js";
import { MediaField } from "./media.js";
import { limitText, normalise } from "./schema.js";
import { localInput, offsetLabel, toOffsetIso, browserZone } from "./time.js";

const ORDER = [
  "correction_note", "headline", "subheadline", "details", "body_format", "body", "summary", "dateline", "language",
  "release_at", "contact", "boilerplate", "links", "tags", "media",
];

const LABELS = {
  headline: "Headline", subheadline: "Subheadline", summary: "Summary", body: "Body",
  body_format: "Body format", dateline: "Dateline", language: "Language", release_at: "Release time",
  contact: "Contact", boilerplate: "About the organisation", links: "Links", tags: "Tags",
  "contact.name": "Name", "contact.email": "E-mail", "contact.phone": "Phone", url: "Address (URL)",
  title: "Link text", tickers: "Listed securities", symbol: "Ticker symbol", exchange: "Exchange",
  sport: "Sport", teams: "Teams or athletes", result: "Result", event_date: "Date of the match or event",
  person: "Person", role: "New role", effective_date: "Effective date", previous_role: "Previous role",
  group: "Group or club", area: "Area", starts_at: "Starts", ends_at: "Ends", venue: "Venue",
  timezone: "Time zone", media: "Attachments", role: "Role", alt: "Text alternative (alt text)",
  caption: "Caption", credit: "Credit", correction_note: "What the correction changes",
};
const NOUNS = { links: "links", tags: "tags", teams: "teams or athletes", tickers: "securities" };
const ITEM_NOUNS = { links: "Link", tickers: "Security" };
const ENUM_LABELS = {
  body_format: { text: "Plain text (blank lines make paragraphs)", markdown: "Markdown", html: "HTML" },
};
const MULTI_LINE_FROM = 1000; // characters: longer strings get a text area

const idOf = (path) => `f-${path.replaceAll(".", "-")}`;
const nameOf = (path) => path.split(".").at(-1);

function labelFor(path, spec, category = "") {
  const name = nameOf(path);
  if (path === "details") return `${category.charAt(0).toUpperCase()}${category.slice(1)} details`;
  return LABELS[path] || LABELS[name] || spec.title || name.replaceAll("_", " ");
}

// The API's descriptions are Markdown: `code` reads as plain text here.
const plain = (text) => (text || "").replaceAll("`", "");

function kindOf(path, spec) {
  if (spec.type === "object" || spec.properties) return "group";
  if (spec.type === "array") {
    const item = spec.items || {};
    return item.type === "object" || item.properties || item.$ref ? "repeat" : "lines";
  }
  if (spec.enum) return "select";
  if (spec.format === "date") return "date";
  if (spec.format === "date-time") return "datetime";
  if (spec.format === "email") return "email";
  if (spec.format === "uri") return "url";
  if (nameOf(path) === "phone") return "tel";
  if (nameOf(path) === "timezone") return "zone";
  return (spec.maxLength ?? 0) >= MULTI_LINE_FROM ? "textarea" : "text";
}

// Fields only a correction has, and fields a correction keeps as they are (it cannot change them).
const CORRECTION_ONLY = ["correction_note"];
const KEPT_BY_CORRECTIONS = ["release_at"];

export class ReleaseForm {
  // options.correcting: the form of a correction of a published release (a note, no release time).
  constructor(doc, categorySchema, { correcting = false } = {}) {
    this.doc = doc;
    this.schema = categorySchema;
    this.correcting = correcting;
    this.media = null;
    this.category = categorySchema.properties.category.const;
    this.fields = new Map(); // path -> { wrapper, control, error, spec, kind, required }
    this.repeats = new Map(); // path -> { list, itemSpec, add }
    this.element = h("div", { class: "fields" });
    const props = categorySchema.properties || {};
    const names = [...ORDER.filter((n) => n in props), ...Object.keys(props).filter((n) => !ORDER.includes(n))];
    for (const name of names) {
      if (!this.shows(name)) continue;
      const required = (categorySchema.required || []).includes(name) || (correcting && CORRECTION_ONLY.includes(name));
      this.element.append(this.field(name, props[name], required));
    }
    this.element.addEventListener("input", (event) => this.count(event.target));
  }

  shows(name) {
    if (name === "category") return false;
    if (CORRECTION_ONLY.includes(name)) return this.correcting;
    if (KEPT_BY_CORRECTIONS.includes(name)) return !this.correcting;
    return true;
  }

  field(path, rawSpec, required) {
    const spec = normalise(this.doc, rawSpec);
    if (path === "media") {
      this.media = new MediaField(this.doc, path, spec, this);
      return this.media.element;
    }
    const kind = kindOf(path, spec);
    if (kind === "group") return this.group(path, spec, required);
    if (kind === "repeat") return this.repeat(path, spec, required);
    return this.single(path, spec, required, kind);
  }

  describe(path, spec, kind, extra = []) {
    const parts = [];
    const hintText = kind === "lines" ? `${plain(spec.description)} One per line.`.trim() : plain(spec.description);
    const limits = [limitText(spec, NOUNS[nameOf(path)]), ...extra].filter(Boolean).join("; ");
    const ids = [];
    if (hintText) {
      parts.push(h("p", { class: "hint", id: `${idOf(path)}-hint` }, hintText));
      ids.push(`${idOf(path)}-hint`);
    }
    if (limits) {
      parts.push(h("p", { class: "limit", id: `${idOf(path)}-limit` }, `Limit: ${limits}.`));
      ids.push(`${idOf(path)}-limit`);
    }
    return { parts, ids };
  }

  single(path, spec, required, kind) {
    const id = idOf(path);
    const label = h("label", { for: id }, labelFor(path, spec), required ? null : h("span", { class: "optional" }, " (optional)"));
    const extra = [];
    if (kind === "datetime") extra.push(this.zoneNote(path));
    const { parts, ids } = this.describe(path, spec, kind, extra);
    const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
    ids.push(error.id);
    const common = { id, name: path, "aria-describedby": ids.join(" "), dataset: { path, kind } };
    let control;
    if (kind === "textarea" || kind === "lines") {
      const rows = nameOf(path) === "body" ? 12 : kind === "lines" ? 3 : 4;
      control = h("textarea", { ...common, rows, spellcheck: kind === "lines" ? "false" : "true" });
    } else if (kind === "select") {
      control = h(
        "select",
        common,
        spec.enum.map((value) =>
          h("option", { value, selected: value === spec.default }, ENUM_LABELS[nameOf(path)]?.[value] || value),
        ),
      );
    } else {
      const type = { date: "date", datetime: "datetime-local", email: "email", url: "url", tel: "tel" }[kind] || "text";
      control = h("input", { ...common, type, autocomplete: "off", step: kind === "datetime" ? 60 : null });
      if (kind === "zone") {
        control.setAttribute("list", `${id}-zones`);
        control.value = browserZone();
      } else if (spec.default !== undefined && spec.default !== null && typeof spec.default === "string") {
        control.value = spec.default;
      }
    }
    const counter = spec.maxLength && kind !== "lines" ? h("p", { class: "count", id: `${id}-count`, "aria-hidden": "true" }) : null;
    const wrapper = h("div", { class: `field field-${kind}`, dataset: { field: path } }, label, parts, control, counter, error);
    if (kind === "zone") wrapper.append(zoneList(`${id}-zones`));
    this.fields.set(path, { wrapper, control, error, spec, kind, required });
    this.count(control);
    return wrapper;
  }

  zoneNote(path) {
    if (path.startsWith("details.")) return "in the event's time zone (below)";
    return `in your time zone (${browserZone()}, ${offsetLabel(new Date(), browserZone())})`;
  }

  group(path, spec, required) {
    const legend = h("legend", {}, labelFor(path, spec, this.category), required || !spec.properties ? null : h("span", { class: "optional" }, " (optional)"));
    const error = h("p", { class: "field-error", id: `${idOf(path)}-error`, hidden: true });
    const fieldset = h("fieldset", { class: "group", dataset: { field: path }, "aria-describedby": error.id }, legend, error);
    if (spec.description && path !== "details") fieldset.append(h("p", { class: "hint" }, spec.description));
    for (const [name, child] of Object.entries(spec.properties || {})) {
      fieldset.append(this.field(`${path}.${name}`, child, (spec.required || []).includes(name)));
    }
    this.fields.set(path, { wrapper: fieldset, control: fieldset, error, spec, kind: "group", required });
    return fieldset;
  }

  repeat(path, spec, required) {
    const itemSpec = normalise(this.doc, spec.items);
    const noun = ITEM_NOUNS[nameOf(path)] || "Item";
    const { parts } = this.describe(path, spec, "repeat");
    const error = h("p", { class: "field-error", id: `${idOf(path)}-error`, hidden: true });
    const list = h("div", { class: "repeat-items" });
    const add = h("button", { type: "button", class: "secondary" }, `Add ${noun.toLowerCase()}`);
    const fieldset = h(
      "fieldset",
      { class: "group repeat", dataset: { field: path }, "aria-describedby": error.id },
      h("legend", {}, labelFor(path, spec), required ? null : h("span", { class: "optional" }, " (optional)")),
      parts,
      error,
      list,
      add,
    );
    const entry = { list, itemSpec, noun, max: spec.maxItems ?? Infinity, add };
    this.repeats.set(path, entry);
    this.fields.set(path, { wrapper: fieldset, control: add, error, spec, kind: "repeat", required });
    add.addEventListener("click", () => {
      const item = this.addItem(path);
      item?.querySelector("input, textarea, select")?.focus();
    });
    return fieldset;
  }

  addItem(path) {
    const entry = this.repeats.get(path);
    const index = entry.list.children.length;
    if (index >= entry.max) return null;
    const itemPath = `${path}.${index}`;
    const remove = h("button", { type: "button", class: "secondary remove" }, `Remove ${entry.noun.toLowerCase()} ${index + 1}`);
    const error = h("p", { class: "field-error", id: `${idOf(itemPath)}-error`, hidden: true });
    const item = h("fieldset", { class: "item", dataset: { field: itemPath } }, h("legend", {}, `${entry.noun} ${index + 1}`), error);
    for (const [name, child] of Object.entries(entry.itemSpec.properties || {})) {
      item.append(this.field(`${itemPath}.${name}`, child, (entry.itemSpec.required || []).includes(name)));
    }
    item.append(remove);
    this.fields.set(itemPath, { wrapper: item, control: item, error, spec: entry.itemSpec, kind: "item" });
    remove.addEventListener("click", () => {
      const values = this.collectRepeat(path).filter((_, i) => i !== index);
      this.fillRepeat(path, values);
      (entry.list.querySelector("input") || entry.add).focus();
    });
    entry.list.append(item);
    entry.add.hidden = entry.list.children.length >= entry.max;
    return item;
  }

  count(control) {
    const field = control?.dataset?.path && this.fields.get(control.dataset.path);
    if (!field || !field.spec.maxLength) return;
    const counter = field.wrapper.querySelector(".count");
    if (!counter) return;
    const length = [...(control.value || "")].length;
    counter.textContent = `${length.toLocaleString("en")} / ${field.spec.maxLength.toLocaleString("en")}`;
    counter.classList.toggle("over", length > field.spec.maxLength || (length > 0 && length < (field.spec.minLength ?? 0)));
  }

  // -- values ---------------------------------------------------------------------------------

  zoneFor(path) {
    if (!path.startsWith("details.")) return browserZone();
    return this.fields.get("details.timezone")?.control.value.trim() || browserZone();
  }

  valueOf(path) {
    const field = this.fields.get(path);
    if (!field) return undefined;
    if (field.kind === "group") {
      const value = {};
      for (const name of Object.keys(field.spec.properties || {})) {
        const child = this.valueOf(`${path}.${name}`);
        if (child !== undefined) value[name] = child;
      }
      return Object.keys(value).length || field.required ? value : undefined;
    }
    if (field.kind === "repeat") {
      const items = this.collectRepeat(path);
      return items.length ? items : undefined;
    }
    const raw = field.control.value;
    if (field.kind === "lines") {
      const lines = raw.split("\n").map((line) => line.trim()).filter(Boolean);
      return lines.length ? lines : undefined;
    }
    if (raw.trim() === "") return undefined;
    if (field.kind === "datetime") return toOffsetIso(raw, this.zoneFor(path));
    return raw;
  }

  collectRepeat(path) {
    const entry = this.repeats.get(path);
    const items = [];
    for (let index = 0; index < entry.list.children.length; index += 1) {
      const item = {};
      for (const name of Object.keys(entry.itemSpec.properties || {})) {
        const value = this.valueOf(`${path}.${index}.${name}`);
        if (value !== undefined) item[name] = value;
      }
      if (Object.keys(item).length) items.push(item);
    }
    return items;
  }

  collect() {
    const release = { category: this.schema.properties.category.const };
    for (const name of Object.keys(this.schema.properties)) {
      if (!this.shows(name) || name === "media") continue;
      const value = this.valueOf(name);
      if (value !== undefined) release[name] = value;
    }
    const media = this.media?.collect();
    if (media) release.media = media;
    return release;
  }

  fillRepeat(path, items) {
    const entry = this.repeats.get(path);
    for (const key of [...this.fields.keys()]) if (key.startsWith(`${path}.`)) this.fields.delete(key);
    replace(entry.list);
    for (const item of items || []) {
      this.addItem(path);
      const index = entry.list.children.length - 1;
      for (const [name, value] of Object.entries(item || {})) this.setValue(`${path}.${index}.${name}`, value);
    }
    entry.add.hidden = entry.list.children.length >= entry.max;
  }

  setValue(path, value) {
    if (path === "media") {
      this.media?.fill(value);
      return;
    }
    const field = this.fields.get(path);
    if (!field || value === undefined || value === null) return;
    if (field.kind === "group") {
      for (const [name, child] of Object.entries(value)) this.setValue(`${path}.${name}`, child);
      return;
    }
    if (field.kind === "repeat") {
      this.fillRepeat(path, value);
      return;
    }
    if (field.kind === "lines") field.control.value = [value].flat().join("\n");
    else if (field.kind === "datetime") field.control.value = localInput(value, this.zoneFor(path));
    else field.control.value = String(value);
    this.count(field.control);
  }

  stop() {
    this.media?.stop();
  }

  fill(release) {
    // The time zone first: the event's times are shown in it.
    if (release?.details?.timezone) this.setValue("details.timezone", release.details.timezone);
    for (const [name, value] of Object.entries(release || {})) {
      if (name !== "category") this.setValue(name, value);
    }
  }

  // -- errors ---------------------------------------------------------------------------------

  // "Name (Contact)", "Address (URL) (Link 1)": a field's label with the groups it is in.
  fullLabel(path) {
    const parts = path.split(".");
    const labels = [];
    for (let end = parts.length; end > 0; end -= 1) {
      const prefix = parts.slice(0, end).join(".");
      const field = this.fields.get(prefix);
      if (!field) continue;
      if (field.kind === "item") labels.push(field.wrapper.querySelector("legend").textContent);
      else if (!/^\d+$/.test(parts[end - 1])) labels.push(labelFor(prefix, field.spec, this.category));
    }
    const [own, ...groups] = labels;
    return groups.length ? `${own} (${groups.join(", ")})` : own;
  }

  clearErrors() {
    for (const field of this.fields.values()) {
      field.error.hidden = true;
      field.error.textContent = "";
      field.wrapper.classList.remove("has-error");
      if (field.control.matches("input, textarea, select")) field.control.removeAttribute("aria-invalid");
    }
  }

  // Puts each API error next to its field (or the nearest enclosing one); returns, for the
  // summary, [{ field, label, message, target }] in the form's order.
  showErrors(errors) {
    this.clearErrors();
    const shown = [];
    for (const error of errors) {
      const path = String(error.field || "");
      let owner = path;
      while (owner && !this.fields.has(owner)) owner = owner.includes(".") ? owner.slice(0, owner.lastIndexOf(".")) : "";
      const field = owner ? this.fields.get(owner) : null;
      const rest = owner && path !== owner ? path.slice(owner.length + 1) : "";
      const where = rest && /^\d+$/.test(rest.split(".")[0]) ? `item ${Number(rest.split(".")[0]) + 1}: ` : "";
      const message = `${where}${error.message}`;
      if (field) {
        field.error.textContent = field.error.textContent ? `${field.error.textContent} ${message}` : message;
        field.error.hidden = false;
        field.wrapper.classList.add("has-error");
        if (field.control.matches("input, textarea, select")) field.control.setAttribute("aria-invalid", "true");
      }
      const label = field ? this.fullLabel(owner) : error.field;
      const target = field ? (field.control.matches("input, textarea, select, button") ? field.control : field.wrapper.querySelector("input, textarea, select, button")) : null;
      shown.push({ field: path, label, message, target });
    }
    const order = [...this.fields.keys()];
    const rank = (item) => {
      const index = order.findIndex((key) => item.field === key || item.field.startsWith(`${key}.`));
      return index === -1 ? order.length : index;
    };
    return shown.sort((a, b) => rank(a) - rank(b));
  }
}

function zoneList(id) {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return h("datalist", { id }, zones.map((zone) => h("option", { value: zone })));
}
