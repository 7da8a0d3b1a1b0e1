// Sign in, the organisation's releases, and one release's status.

import { ApiError, call, session } from "./api.js";
import { announce, h, humanise, replace, time } from "./dom.js";
import { DECISION_LABELS, STATUS_LABELS, can, statusLabel } from "./states.js";

function problemBox(error) {
  return h("div", { class: "error-summary", role: "alert", tabindex: "-1" }, h("h2", {}, error.problem?.title || "Something went wrong"), h("p", {}, error.problem?.detail || error.message));
}

function statusBadge(status) {
  return h("span", { class: `status status-${status}`, dataset: { status } }, statusLabel(status));
}

// -- sign in ------------------------------------------------------------------------------------

export function signInView(main, { navigate }) {
  const input = h("input", { id: "api-key", name: "api-key", type: "password", autocomplete: "off", spellcheck: "false", autocapitalize: "off", "aria-describedby": "api-key-hint" });
  const button = h("button", { type: "submit", class: "primary" }, "Sign in");
  const errors = h("div", { class: "sign-in-error" });
  const heading = h("h1", { tabindex: "-1" }, "Sign in");
  const form = h(
    "form",
    { class: "sign-in", novalidate: true },
    h("div", { class: "field" },
      h("label", { for: "api-key" }, "Your organisation's API key"),
      h("p", { class: "hint", id: "api-key-hint" }, "It starts with pik_. The desk keeps it in this browser tab only and forgets it when you sign out or close the tab."),
      input),
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    replace(errors);
    if (!key) {
      errors.append(problemBox(new ApiError(0, { title: "Enter your API key", detail: "Paste the key your newsroom gave your organisation." })));
      errors.firstChild.focus();
      return;
    }
    button.disabled = true;
    try {
      await call("GET", "/releases?limit=1", { key });
      session.signIn(key);
      navigate("#/releases", "Signed in.");
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      errors.append(problemBox(error));
      errors.firstChild.focus();
      input.setAttribute("aria-invalid", "true");
    } finally {
      button.disabled = false;
    }
  });
  replace(main, 
    h("div", { class: "narrow" },
      heading,
      h("p", {}, "Submit press releases to the newsroom, follow their review and revise them when the moderators ask."),
      errors,
      form),
  );
  return { focus: heading };
}

// -- the list -----------------------------------------------------------------------------------

function summaryLine(item) {
  const bits = [humanise(item.category), `version ${item.version}`];
  return h("p", { class: "meta" }, bits.join(" · "), " · updated ", time(item.updated_at));
}

function releaseItem(item) {
  return h(
    "li",
    { class: "release", dataset: { id: item.id, status: item.status } },
    h("h2", { class: "release-headline" }, h("a", { href: `#/releases/${item.id}` }, item.headline)),
    h("p", { class: "release-status" }, statusBadge(item.status)),
    summaryLine(item),
    item.decision?.note ? h("p", { class: "note-line" }, h("span", { class: "label" }, "Moderator's note: "), item.decision.note) : null,
  );
}

export function listView(main, { params }) {
  const status = params.get("status") || "";
  const list = h("ul", { class: "releases" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Show older releases");
  const state = h("p", { class: "list-state" }, "Loading your releases…");
  const heading = h("h1", { tabindex: "-1" }, "Your releases");
  const filter = h(
    "select",
    { id: "status-filter", name: "status" },
    h("option", { value: "" }, "All"),
    Object.entries(STATUS_LABELS).map(([value, label]) => h("option", { value, selected: value === status }, label)),
  );
  filter.addEventListener("change", () => {
    window.location.hash = filter.value ? `#/releases?status=${filter.value}` : "#/releases";
  });
  let cursor = null;

  async function load() {
    more.disabled = true;
    const query = new URLSearchParams({ limit: "20" });
    if (status) query.set("status", status);
    if (cursor) query.set("cursor", cursor);
    try {
      const { body } = await call("GET", `/releases?${query}`);
      list.append(...body.items.map(releaseItem));
      cursor = body.next_cursor;
      more.hidden = !cursor;
      const count = list.children.length;
      state.textContent = count ? `${count} ${count === 1 ? "release" : "releases"}${cursor ? " so far" : ""}.` : "No releases yet.";
      if (!count) state.append(" ", h("a", { href: "#/new" }, "Write your first release"));
      announce(state.textContent);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      replace(state, problemBox(error));
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener("click", load);
  replace(main, 
    h("div", { class: "page-head" }, heading, h("a", { href: "#/new", class: "button primary" }, "New release")),
    h("div", { class: "filter" }, h("label", { for: "status-filter" }, "Show"), filter),
    state,
    list,
    more,
  );
  load();
  return { focus: heading };
}

// -- one release --------------------------------------------------------------------------------

function row(label, ...value) {
  return [h("dt", {}, label), h("dd", {}, ...value)];
}

function decisionBlock(decision) {
  if (!decision) return null;
  return h(
    "section",
    { class: "decision", "aria-labelledby": "decision-heading" },
    h("h2", { id: "decision-heading" }, "The moderator's decision"),
    h("dl", {},
      row("Decision", DECISION_LABELS[decision.action] || humanise(decision.action)),
      row("For version", String(decision.version)),
      row("Decided", time(decision.decided_at)),
      decision.reason_codes.length ? row("Reasons", h("ul", { class: "reasons" }, decision.reason_codes.map((code) => h("li", { dataset: { code } }, humanise(code))))) : null,
    ),
    decision.note ? h("div", { class: "note-block" }, h("h3", {}, "Note"), h("blockquote", { class: "note" }, decision.note)) : null,
  );
}

export function detailView(main, { id, navigate, message }) {
  const heading = h("h1", { tabindex: "-1" }, "Release");
  const body = h("div", { class: "detail" }, h("p", {}, "Loading…"));
  const dialog = withdrawDialog();
  replace(main, h("p", { class: "back" }, h("a", { href: "#/releases" }, "← Your releases")), heading, body, dialog.element);

  async function load(note) {
    try {
      const { body: view } = await call("GET", `/releases/${encodeURIComponent(id)}`);
      render(view, note);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      replace(body, problemBox(error));
    }
  }

  function render(view, note) {
    heading.textContent = view.headline;
    const actions = h("div", { class: "actions" });
    if (can("revise", view.status)) {
      actions.append(h("a", { href: `#/releases/${view.id}/revise`, class: "button primary" }, view.status === "changes_requested" ? "Revise it" : "Revise it before review"));
    }
    if (can("withdraw", view.status)) {
      const withdraw = h("button", { type: "button", class: "danger" }, "Withdraw…");
      withdraw.addEventListener("click", () => dialog.open(async () => {
        try {
          await call("DELETE", `/releases/${view.id}`);
          announce("Withdrawn.");
          await load("The release is withdrawn: it will not be published.");
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          body.prepend(problemBox(error));
        }
      }, withdraw));
      actions.append(withdraw);
    }
    if (can("correct", view.status)) {
      const text = { published: "Correct it", correction_changes_requested: "Revise the correction", correction_review: "Change the correction" }[view.status] || "Correct it";
      actions.append(h("a", { href: `#/releases/${view.id}/correct`, class: "button primary correct" }, text));
    }
    const refresh = h("button", { type: "button", class: "secondary" }, "Refresh");
    refresh.addEventListener("click", () => load("Refreshed."));
    actions.append(refresh);
    // A published release links to its page, which stays while a correction is on its way.
    const published = view.public_url
      ? h("p", { class: "public-link" }, h("a", { href: view.public_url, class: "button primary" }, "Read the published page"))
      : null;
    replace(body, 
      note ? h("p", { class: "callout success", role: "status" }, note) : null,
      h("p", { class: "status-line" }, "Status: ", statusBadge(view.status), " ", h("code", { class: "status-code" }, view.status)),
      published,
      h("dl", { class: "facts" },
        row("Category", humanise(view.category)),
        row("Version", String(view.version)),
        row("Language", view.language),
        row("Submitted", time(view.created_at)),
        row("Last change", time(view.updated_at)),
        view.release_at ? row("Not before", time(view.release_at)) : null,
        view.published_at ? row("Published", time(view.published_at)) : null,
        view.public_version ? row("On the site", `version ${view.public_version}`) : null,
        row("Release id", h("code", {}, view.id)),
      ),
      correctionBlock(view),
      decisionBlock(view.decision),
      h("section", { class: "flags-block", "aria-labelledby": "flags-heading" },
        h("h2", { id: "flags-heading" }, "Hints for the moderator"),
        view.prescreen_flags.length
          ? h("ul", { class: "flags" }, view.prescreen_flags.map((flag) => h("li", { dataset: { code: flag.code } }, h("strong", {}, humanise(flag.code)), ": ", flag.message)))
          : h("p", {}, "None.")),
      actions,
    );
    if (note) announce(note);
  }

  load(message);
  return { focus: heading };
}

// A correction on its way (version n+1 while version n stays public) and the published ones.
function correctionBlock(view) {
  const pending = view.pending_correction;
  const done = view.corrections || [];
  if (!pending && !done.length) return null;
  return h(
    "section",
    { class: "corrections", "aria-labelledby": "corrections-heading" },
    h("h2", { id: "corrections-heading" }, "Corrections"),
    pending
      ? h("div", { class: "pending-correction" },
        h("p", {}, `Version ${pending.version}: ${statusLabel(view.status).toLowerCase()}. Readers still see version ${view.public_version}.`),
        h("blockquote", { class: "note" }, pending.note))
      : null,
    done.length
      ? h("ul", { class: "published-corrections" }, done.map((c) => h("li", {}, `Version ${c.version}, corrected on `, time(c.published_at), ": ", c.note)))
      : null,
  );
}

// A native <dialog>: modal, Escape closes it, focus returns to the button that opened it.
function withdrawDialog() {
  const confirm = h("button", { type: "button", class: "danger" }, "Withdraw the release");
  const cancel = h("button", { type: "button", class: "secondary" }, "Keep it");
  const element = h(
    "dialog",
    { class: "confirm", "aria-labelledby": "withdraw-title", "aria-describedby": "withdraw-text" },
    h("h2", { id: "withdraw-title" }, "Withdraw this release?"),
    h("p", { id: "withdraw-text" }, "It will not be published, and this cannot be undone: to publish it later, submit it again."),
    h("div", { class: "actions" }, confirm, cancel),
  );
  let onConfirm = null;
  let opener = null;
  cancel.addEventListener("click", () => element.close());
  confirm.addEventListener("click", async () => {
    confirm.disabled = true;
    try {
      await onConfirm?.();
    } finally {
      confirm.disabled = false;
      element.close();
    }
  });
  element.addEventListener("close", () => opener?.isConnected && opener.focus());
  return {
    element,
    open(action, from) {
      onConfirm = action;
      opener = from;
      element.showModal();
      cancel.focus();
    },
  };
}
