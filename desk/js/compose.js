// Compose a new release, revise one sent back for changes, or correct a published one (a PUT with
// a correction_note: version n+1 goes to the moderators while version n stays public). The
// category chooses the fields; a draft keeps its own Idempotency-Key, so a double click or a
// retry makes one release only. What the tab submitted (attachments included) is kept, so a
// revision or a correction sends the release whole and keeps what it had.

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

const HEADINGS = { new: "New release", revise: "Revise your release", correct: "Correct your published release" };

// What a correction starts from: the release as this tab last sent it, with a new note for a new
// correction (a correction under review or sent back keeps its own note).
function correctionValues(release, content) {
  const values = content ? { ...content } : { category: release.category, headline: release.headline };
  delete values.release_at; // a correction keeps the release time
  if (release.status === "published") delete values.correction_note;
  return values;
}

// options: { doc, navigate, release (status view, when revising or correcting), content (what
// this tab submitted), mode: "new" | "revise" | "correct" }
export function composeView(main, { doc, navigate, release = null, content = null, mode = release ? "revise" : "new" }) {
  const variants = categories(doc);
  const revising = Boolean(release);
  const correcting = mode === "correct";
  const draft = revising ? null : session.get(DRAFT) || { key: newKey(), values: null };
  let values = correcting
    ? correctionValues(release, content)
    : revising ? content || { category: release.category, headline: release.headline } : draft.values;
  let category = values?.category || variants[0].category;
  let form = null;
  const preview = new Preview(revising ? release.id : null);
  const summary = errorSummary();
  const fieldsSlot = h("div", { class: "fields-slot" });
  const submitText = correcting ? `Send the correction (version ${release.version + 1}) for review` : revising ? `Send version ${release.version + 1} for review` : "Submit for review";
  const submit = h("button", { type: "submit", class: "primary" }, submitText);
  const heading = h("h1", { tabindex: "-1" }, HEADINGS[mode]);

  const chooser = correcting
    ? h("p", { class: "fixed-category" }, h("span", { class: "label" }, "Category: "), category.charAt(0).toUpperCase() + category.slice(1), h("span", { class: "hint" }, " (a correction keeps the category and the release time)"))
    : h(
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
    form?.stop();
    form = new ReleaseForm(doc, schema, { correcting });
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

  // The moderator's note, when this sends back what they asked to change (a release or a correction).
  const askedFor = revising && release.decision?.note && ["changes_requested", "correction_changes_requested"].includes(release.status);
  const note = askedFor
    ? h("div", { class: "callout" }, h("h2", {}, "What the moderator asked for"), h("blockquote", { class: "note" }, release.decision.note))
    : null;
  const explain = correcting
    ? h("p", { class: "callout" }, release.status === "published"
      ? `Version ${release.public_version || release.version} stays on the site while the newsroom reviews your correction; once approved, the page shows it with a "Corrected on" notice and your note.`
      : `Version ${release.public_version} stays on the site while the newsroom reviews this correction.`)
    : null;
  const missing = revising && !content
    ? h("p", { class: "callout warning" }, "This browser tab does not hold the text of this release (the API returns only its status), so only the category and headline are filled in: enter the rest of the release again, and attach its files again.")
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
    const waiting = form.media?.problems() || [];
    if (waiting.length) {
      showSummary(summary, `The attachments are not ready: ${waiting.length} ${waiting.length === 1 ? "problem" : "problems"}`, waiting);
      inFlight = false;
      submit.disabled = false;
      submit.removeAttribute("aria-busy");
      return;
    }
    announce(correcting ? "Sending the correction…" : revising ? "Sending the revision…" : "Submitting…");
    try {
      const answer = revising
        ? await call("PUT", `/releases/${release.id}`, { body, headers: { "If-Match": `"${release.version}"` } })
        : await call("POST", "/releases", { body, headers: { "Idempotency-Key": draft.key } });
      const accepted = answer.body;
      session.set(`release.${accepted.id}`, body);
      if (!revising) session.remove(DRAFT);
      preview.stop();
      form.stop();
      const done = correcting
        ? `The correction (version ${accepted.version}) is waiting for review; version ${release.public_version || release.version} stays on the site until it is approved.`
        : revising ? `Version ${accepted.version} is waiting for review.` : "Your release is waiting for review.";
      announce(done);
      navigate(`#/releases/${accepted.id}`, done);
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
      h("div", { class: "compose-main" }, heading, explain, note, missing, summary, formElement),
      preview.element,
    ),
  );
  if (values) preview.schedule(() => form.collect());
  return { stop: () => { preview.stop(); form.stop(); }, focus: heading };
}
