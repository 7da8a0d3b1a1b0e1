// Compose a new release, or revise one sent back for changes. The category chooses the fields;
// a draft keeps its own Idempotency-Key, so a double click or a retry makes one release only.

import { ApiError, call, session } from "./api.js";
import { announce, h, replace } from "./dom.js";
import { ReleaseForm } from "./form.js";
import { Preview } from "./preview.js";
import { categories } from "./schema.js";

const DRAFT = "draft"; // sessionStorage: the new release being written, and its Idempotency-Key

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function savedContent(id) {
  return session.get(`release.${id}`);
}

function errorSummary() {
  return h("div", { class: "error-summary", tabindex: "-1", hidden: true, role: "alert", "aria-labelledby": "error-summary-title" });
}

function showSummary(box, title, items) {
  replace(box, 
    h("h2", { id: "error-summary-title" }, title),
    items.length
      ? h(
          "ul",
          {},
          items.map((item) =>
            h("li", {}, item.target
              ? h("a", { href: `#${item.target.id}`, onclick: (event) => { event.preventDefault(); item.target.focus(); } }, `${item.label}: ${item.message}`)
              : `${item.label ? `${item.label}: ` : ""}${item.message}`),
          ),
        )
      : null,
  );
  box.hidden = false;
  box.focus();
}

// options: { doc, navigate, release (status view, when revising), content (what was submitted) }
export function composeView(main, { doc, navigate, release = null, content = null }) {
  const variants = categories(doc);
  const revising = Boolean(release);
  const draft = revising ? null : session.get(DRAFT) || { key: newKey(), values: null };
  let values = revising ? content || { category: release.category, headline: release.headline } : draft.values;
  let category = values?.category || variants[0].category;
  let form = null;
  const preview = new Preview(revising ? release.id : null);
  const summary = errorSummary();
  const fieldsSlot = h("div", { class: "fields-slot" });
  const submit = h("button", { type: "submit", class: "primary" }, revising ? `Send version ${release.version + 1} for review` : "Submit for review");
  const heading = h("h1", { tabindex: "-1" }, revising ? "Revise your release" : "New release");

  const chooser = h(
    "fieldset",
    { class: "group categories" },
    h("legend", {}, "Category"),
    h("p", { class: "hint" }, "The category decides which details the release has."),
    variants.map(({ category: value, description }) =>
      h(
        "div",
        { class: "choice" },
        h("input", { type: "radio", name: "category", id: `category-${value}`, value, checked: value === category }),
        h("label", { for: `category-${value}` }, h("span", { class: "choice-name" }, value.charAt(0).toUpperCase() + value.slice(1)), h("span", { class: "choice-hint" }, description)),
      ),
    ),
  );

  function remember() {
    if (revising) return;
    session.set(DRAFT, { key: draft.key, values: form.collect() });
  }

  function build(keep) {
    const schema = variants.find((v) => v.category === category).schema;
    form = new ReleaseForm(doc, schema);
    if (keep) form.fill({ ...keep, details: keep.category === category ? keep.details : undefined });
    replace(fieldsSlot, form.element);
  }

  chooser.addEventListener("change", (event) => {
    if (event.target.name !== "category") return;
    const kept = form.collect();
    category = event.target.value;
    build(kept);
    announce(`Category ${category}: the details changed.`);
    preview.schedule(() => form.collect());
    remember();
  });

  const note = revising && release.decision?.note
    ? h("div", { class: "callout" }, h("h2", {}, "What the moderator asked for"), h("blockquote", { class: "note" }, release.decision.note))
    : null;
  const missing = revising && !content
    ? h("p", { class: "callout warning" }, "This browser tab does not hold the text of this release (the API returns only its status), so only the category and headline are filled in: enter the rest of the release again.")
    : null;

  const formElement = h(
    "form",
    { class: "compose", novalidate: true, "aria-labelledby": "compose-heading" },
    chooser,
    fieldsSlot,
    h("div", { class: "actions" }, submit, revising ? h("a", { href: `#/releases/${release.id}`, class: "button secondary" }, "Cancel") : null),
  );
  heading.id = "compose-heading";

  let inFlight = false;
  formElement.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (inFlight) return; // one request at a time: a double click sends one
    inFlight = true;
    submit.disabled = true;
    submit.setAttribute("aria-busy", "true");
    const body = form.collect();
    form.clearErrors();
    summary.hidden = true;
    announce(revising ? "Sending the revision…" : "Submitting…");
    try {
      const answer = revising
        ? await call("PUT", `/releases/${release.id}`, { body, headers: { "If-Match": `"${release.version}"` } })
        : await call("POST", "/releases", { body, headers: { "Idempotency-Key": draft.key } });
      const accepted = answer.body;
      session.set(`release.${accepted.id}`, body);
      if (!revising) session.remove(DRAFT);
      preview.stop();
      announce(revising ? `Version ${accepted.version} sent for review.` : "Submitted for review.");
      navigate(`#/releases/${accepted.id}`, revising ? `Version ${accepted.version} is waiting for review.` : "Your release is waiting for review.");
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.status === 422 && error.fieldErrors.length) {
        const items = form.showErrors(error.fieldErrors);
        showSummary(summary, `The API refused the release: ${items.length} ${items.length === 1 ? "problem" : "problems"}`, items);
      } else {
        showSummary(summary, error.summary, []);
      }
    } finally {
      inFlight = false;
      submit.disabled = false;
      submit.removeAttribute("aria-busy");
    }
  });

  build(values);
  formElement.addEventListener("input", () => {
    preview.schedule(() => form.collect());
    remember();
  });

  replace(main, 
    h(
      "div",
      { class: "compose-layout" },
      h("div", { class: "compose-main" }, heading, note, missing, summary, formElement),
      preview.element,
    ),
  );
  if (values) preview.schedule(() => form.collect());
  return { stop: () => preview.stop(), focus: heading };
}
