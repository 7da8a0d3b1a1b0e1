"""Whatever format comes in, what is stored and published is sanitised HTML.

``text`` is escaped and split into paragraphs, ``markdown`` is rendered with raw HTML disabled,
and every result (``html`` input included) goes through nh3's allow-list: no script, style,
iframe or form elements, no event-handler or style attributes, and links only to absolute
``http``, ``https`` or ``mailto`` URLs, each given ``rel="nofollow noopener"``.
"""

from __future__ import annotations

import html
import re
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from functions.domain.models import BodyFormat

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "strong", "b", "em", "i", "u", "s", "sub", "sup", "small", "mark",
        "a", "abbr", "cite", "q", "blockquote", "code", "pre",
        "ul", "ol", "li", "dl", "dt", "dd",
        "h2", "h3", "h4", "h5", "h6",
        "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "ol": {"start"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}
LINK_REL = "nofollow noopener"
_SAFE_HREF = re.compile(r"^(?:https?://|mailto:)", re.IGNORECASE)
_BLANK_LINES = re.compile(r"\n\s*\n")
_TAG = re.compile(r"<[^>]*>")
# Block elements outside the allow-list whose text must not run into its neighbours: a body's
# h1 becomes h2 (the page's h1 is the headline), a div becomes a paragraph.
_BLOCK_RENAMES = (
    (re.compile(r"<(/?)h1(?=[\s/>])", re.IGNORECASE), r"<\1h2"),
    (re.compile(r"<(/?)(?:div|section|article|header|footer|main|aside)(?=[\s/>])", re.IGNORECASE), r"<\1p"),
)
_SPACE = re.compile(r"\s+")


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "href" and not _SAFE_HREF.match(value.strip()):
        return None  # relative, javascript:, data:, vbscript: ... all dropped
    return value


@cache
def _cleaner() -> Any:
    import nh3

    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style", "iframe", "object", "embed", "template", "noscript", "svg"},
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_keep_attribute,
        url_schemes={"http", "https", "mailto"},
        link_rel=LINK_REL,
        strip_comments=True,
    )


@cache
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    # commonmark with raw HTML off: HTML typed into Markdown is shown as text, never rendered.
    return MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")


def text_to_html(text: str) -> str:
    """Plain text: blank lines separate paragraphs, single newlines become ``<br>``."""
    paragraphs = [p.strip() for p in _BLANK_LINES.split(text.replace("\r\n", "\n")) if p.strip()]
    return "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)


def sanitise_body(body: str, body_format: BodyFormat) -> str:
    """Return the sanitised HTML for ``body`` written in ``body_format``."""
    if body_format == "text":
        rendered = text_to_html(body)
    elif body_format == "markdown":
        rendered = _markdown().render(body)
    else:
        rendered = body
    for pattern, replacement in _BLOCK_RENAMES:
        rendered = pattern.sub(replacement, rendered)
    return str(_cleaner().clean(rendered)).strip()


def html_to_text(fragment: str) -> str:
    """Readable plain text from sanitised HTML (for prescreen rules, summaries and consoles)."""
    spaced = re.sub(r"</(p|li|h[2-6]|blockquote|pre|tr|dd|dt)>|<br\s*/?>", "\n", fragment)
    return html.unescape(_TAG.sub("", spaced)).strip()


def plain_words(fragment: str) -> str:
    """Whitespace-collapsed text of an HTML fragment."""
    return _SPACE.sub(" ", html_to_text(fragment)).strip()
