// The live preview: POST /previews runs the API's own validation, sanitiser and prescreen, and
// stores nothing. Its HTML is the API's sanitised output; it reaches the page only through the
// "desk-preview" Trusted Types policy (the desk's CSP refuses every other HTML sink).
import { call } from "./api.js";
import { h, replace } from "./dom.js";

const policy = window.trustedTypes?.createPolicy
  ? window.trustedTypes.createPolicy("desk-preview", { createHTML: (html) => html })
  : { createHTML: (html) => html };

const DEBOUNCE_MS = 700;

export class Preview {
  // revises: the id of the release being revised (it is no duplicate of itself).
  constructor(revises = null) {
    this.path = revises ? `/previews?revises=${encodeURIComponent(revises)}` : "/previews";
    this.status = h("p", { class: "preview-status" }, "The preview appears as you write.");
    this.flags = h("ul", { class: "flags" });
    this.body = h("div", { class: "preview-body", lang: "en" });
    this.element = h(
      "section",
      { class: "preview", "aria-labelledby": "preview-heading" },
      h("h2", { id: "preview-heading" }, "Preview"),
      this.status,
      h("h3", {}, "Hints for the moderator"),
      this.flags,
      h("h3", {}, "Body as it will be published"),
      this.body,
    );
    this.timer = null;
    this.controller = null;
  }

  schedule(collect) {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.refresh(collect()), DEBOUNCE_MS);
  }

  async refresh(release) {
    this.controller?.abort();
    this.controller = new AbortController();
    try {
      const { body } = await call("POST", this.path, { body: release, signal: this.controller.signal });
      this.show(body, release.language);
    } catch (error) {
      if (error.name === "AbortError") return;
      if (error.status === 422) {
        const count = error.fieldErrors.length;
        this.status.textContent = `Not ready for a preview yet: ${count} ${count === 1 ? "problem" : "problems"} (${error.fieldErrors
          .slice(0, 3)
          .map((e) => `${e.field}: ${e.message}`)
          .join("; ")}${count > 3 ? "; …" : ""}).`;
      } else {
        this.status.textContent = `No preview: ${error.summary || error.message}`;
      }
    }
  }

  show(preview, language) {
    this.status.textContent = "Up to date with what you typed.";
    replace(this.flags, 
      ...(preview.prescreen_flags.length
        ? preview.prescreen_flags.map((flag) => h("li", { dataset: { code: flag.code } }, h("strong", {}, flag.code.replaceAll("_", " ")), ": ", flag.message))
        : [h("li", {}, "None: nothing for the moderator to check first.")]),
    );
    this.body.setAttribute("lang", language || "en");
    this.body.innerHTML = policy.createHTML(preview.html);
    for (const link of this.body.querySelectorAll("a[href]")) {
      link.setAttribute("target", "_blank"); // never lose the draft by following a link
    }
  }

  stop() {
    window.clearTimeout(this.timer);
    this.controller?.abort();
  }
}
