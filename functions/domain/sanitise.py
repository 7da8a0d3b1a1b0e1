"""Whatever format comes in, what is stored and published is sanitised HTML.

``text`` is escaped and split into paragraphs, ``markdown`` is rendered as GitHub-flavoured
Markdown (tables, strikethrough, autolinks) with raw HTML passed through, and every result
(``html`` input included) goes through nh3's allow-list: no script, style, iframe or form
elements, no event-handler or style attributes, and links only to absolute ``http``, ``https`` or
``mailto`` URLs, each given ``rel="nofollow noopener"``. So HTML typed into Markdown is sanitised
exactly as an ``html`` body is (GitHub's approach): the allow-list, not the renderer, is what
makes the output safe. Two kinds of body skip the cleaner, for speed, where it would change
nothing but spellings written here its way: plain text, and Markdown without a "<" whose rendering
holds only tags the allow-list keeps (the tests hold both against the cleaner's output).

Character references can name characters that intake refuses when typed (``&#11;``,
``&#x202E;``): the output is cleaned of them (``functions.domain.characters.clean``), so the
sanitised body never holds a character that XML forbids or an invisible one that does not join.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from functions.domain.characters import clean, is_plain

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
_LINE_ENDS = re.compile(r"</(p|li|h[2-6]|blockquote|pre|tr|dd|dt)>|<br\s*/?>")
# Elements outside the allow-list that keep their meaning under another name: a body's h1 becomes
# h2 (the page's h1 is the headline), a div becomes a paragraph (so blocks do not run together),
# and del (how GitHub-flavoured Markdown renders ~~strikethrough~~) becomes s; in one pass. The
# look-ahead for the names' first letters (matched as case-insensitively as the names are) lets
# every other tag fail at once instead of at each name in turn: about half the time of the pass.
_RENAME = re.compile(
    r"<(/?)(?=[adfhms])(?:(h1)|(del)|div|section|article|header|footer|main|aside)(?=[\s/>])",
    re.IGNORECASE,
)


def _renamed(match: re.Match[str]) -> str:
    return "<" + match[1] + ("h2" if match[2] else "s" if match[3] else "p")


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


_MARKDOWN_EXTENSIONS = (b"table", b"strikethrough", b"autolink")


@cache
def _markdown() -> Callable[[str], str]:
    """GitHub-flavoured Markdown to HTML (cmark-gfm), raw HTML kept for the allow-list to clean.

    cmarkgfm's own helpers never free the syntax tree or the rendered string (tens of KB per
    call, for the life of a warm Lambda), so the parser is driven here through the same cffi
    bindings and both are released with cmark's own functions. ``cmark_node_free`` and the
    allocator are exported by the extension module but not declared in its cffi definitions,
    hence ctypes for those two.
    """
    import ctypes

    from cmarkgfm import _cmark
    from cmarkgfm.cmark import Options

    class CmarkMem(ctypes.Structure):  # cmark_mem: the allocator cmark allocates with
        _fields_ = (
            ("calloc", ctypes.c_void_p),
            ("realloc", ctypes.c_void_p),
            ("free", ctypes.CFUNCTYPE(None, ctypes.c_void_p)),
        )

    lib, ffi = _cmark.lib, _cmark.ffi
    options = Options.CMARK_OPT_UNSAFE  # keep raw HTML: nh3 decides what of it survives
    lib.cmark_gfm_core_extensions_ensure_registered()
    extensions = [lib.cmark_find_syntax_extension(name) for name in _MARKDOWN_EXTENSIONS]
    if ffi.NULL in extensions:
        raise RuntimeError("cmark-gfm lacks one of the extensions " + repr(_MARKDOWN_EXTENSIONS))
    native = ctypes.CDLL(_cmark.__file__)
    native.cmark_node_free.argtypes = (ctypes.c_void_p,)
    native.cmark_node_free.restype = None
    native.cmark_get_default_mem_allocator.argtypes = ()
    native.cmark_get_default_mem_allocator.restype = ctypes.POINTER(CmarkMem)
    node_free = native.cmark_node_free
    mem_free = native.cmark_get_default_mem_allocator().contents.free

    def address(pointer: Any) -> int:
        return int(ffi.cast("uintptr_t", pointer))

    def render(text: str) -> str:
        source = text.encode("utf-8")
        parser = lib.cmark_parser_new(options)
        try:
            for extension in extensions:
                lib.cmark_parser_attach_syntax_extension(parser, extension)
            lib.cmark_parser_feed(parser, source, len(source))
            root = lib.cmark_parser_finish(parser)
            try:
                rendered = lib.cmark_render_html(
                    root, options, lib.cmark_parser_get_syntax_extensions(parser)
                )
                try:
                    return _decode_cmark(ffi.string(rendered))
                finally:
                    mem_free(address(rendered))
            finally:
                node_free(address(root))
        finally:
            lib.cmark_parser_free(parser)

    return render


def _decode_cmark(output: bytes) -> str:
    """cmark's HTML as text. cmark writes U+FFFE and U+FFFF (from ``&#xFFFE;``) as the single
    bytes 0xFE and 0xFF, which never occur in UTF-8: they are read back as those characters
    (and then cleaned away) rather than failing the whole decode."""
    if b"\xfe" in output or b"\xff" in output:
        output = output.replace(b"\xfe", "\ufffe".encode()).replace(b"\xff", "\uffff".encode())
    return output.decode("utf-8")


def text_to_html(text: str) -> str:
    """Plain text: blank lines separate paragraphs, single newlines become ``<br>``."""
    return _paragraphs(text, quote=True)


def _paragraphs(text: str, *, quote: bool) -> str:
    paragraphs = [p.strip() for p in _BLANK_LINES.split(text.replace("\r\n", "\n")) if p.strip()]
    return "".join("<p>" + html.escape(p, quote=quote).replace("\n", "<br>") + "</p>" for p in paragraphs)


# Plain text (no forbidden or invisible character) without these comes out of text_to_html as
# the cleaner would give it back, but for quotes: html.escape writes "&", "<" and ">" as the
# cleaner does, and quotes as references that the cleaner turns back into quotes (so they are
# left as they are here), while the cleaner writes a no-break space as &nbsp; and reads a carriage
# return as a line feed. Such text is not given to the cleaner: tests/unit/test_sanitise.py holds
# the result against nh3's.
_TEXT_THE_CLEANER_CHANGES = re.compile("[\r\u00a0]")


# Markdown without a "<" holds no raw HTML, so what cmark-gfm makes of it holds only the markup
# cmark writes itself. When each of its tags is one the allow-list keeps (below: the elements
# cmark writes, ordered lists' start, table cells' alignment, and links to an address that
# certainly parses as a URL, which is all nh3 checks before keeping an http(s) one) and its text
# holds no no-break space (which the cleaner writes as a reference), the cleaner would give it back
# but for what _as_the_cleaner_writes_it spells its way: quotes in text (cmark: &quot;), void
# elements without the slash, links with rel, table cells without align. Such Markdown is not given
# to the cleaner: tests/unit/test_sanitise.py holds the result against nh3's.
_LABEL = r"(?!xn--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_LAST_LABEL = r"(?!xn--)[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"  # a letter first: never read as a number
_URL_CHARACTER = r"(?:[-a-zA-Z0-9._~:/?#@!$()*+,;=%\[\]]|&amp;)"
_LINK_HREF = (
    rf"(?:https?://(?:{_LABEL}\.)*{_LAST_LABEL}(?::[0-9]{{1,4}})?(?:[/?#]{_URL_CHARACTER}*)?"
    rf"|mailto:{_URL_CHARACTER}+)"
)
# The first tag that the cleaner would not keep as it is (or as _as_the_cleaner_writes_it writes it).
_NOT_KEPT_TAG = re.compile(
    r"<(?!(?:/?(?:p|h[1-6]|em|strong|code|pre|blockquote|ul|ol|li|del|table|thead|tbody|tr|th|td|a)"
    r'|ol start="[0-9]{1,9}"|br /|hr /|t[hd] align="(?:left|center|right)"'
    rf'|a href="{_LINK_HREF}"(?: title="[^"&<>]*")?)>)'
)
# The tags written otherwise in such HTML: renamed (h1, del: as _RENAME renames them), and as the
# cleaner writes them (void elements, links, aligned cells). One pattern that also matched quotes
# in text would be tried at every character: about ten times slower.
_REWRITTEN_TAG = re.compile(r'<(?:/?h1|/?del|br /|hr /|a [^>]*|t[hd] align="[a-z]+")(?=>)')
_LINK_REL_ATTRIBUTE = f' rel="{LINK_REL}"'


def _as_the_cleaner_writes(tag: re.Match[str]) -> str:
    found = tag[0]
    if found[1] == "a":
        return found + _LINK_REL_ATTRIBUTE
    if found.endswith("h1"):
        return found[:-1] + "2"
    if found.endswith("del"):
        return found[:-3] + "s"
    return found[:3]  # "<br", "<hr", "<th", "<td": without the slash or the alignment


def _as_the_cleaner_writes_it(rendered: str) -> str | None:
    """cmark-gfm's HTML of Markdown without a "<" as renaming and the cleaner would give it back;
    None when the cleaner must see it (see above)."""
    if _NOT_KEPT_TAG.search(rendered) is not None or "\u00a0" in rendered:
        return None
    return _REWRITTEN_TAG.sub(_as_the_cleaner_writes, rendered.replace("&quot;", '"'))


def kept_markdown(body: str, rendered: str) -> str | None:
    """What sanitising makes of Markdown ``body`` (cmark-gfm's ``rendered``) without the cleaner,
    before the character clean-up; None when the cleaner must see it."""
    return _as_the_cleaner_writes_it(rendered) if "<" not in body else None


def _cleaned(html_text: str) -> str:
    """``html_text`` through the renaming, the allow-list and the character clean-up."""
    return clean(str(_cleaner().clean(_RENAME.sub(_renamed, html_text)))).strip()


def sanitise_body(body: str, body_format: BodyFormat) -> str:
    """Return the sanitised HTML for ``body`` written in ``body_format``."""
    if body_format == "text":
        if is_plain(body) and _TEXT_THE_CLEANER_CHANGES.search(body) is None:
            return _paragraphs(body, quote=False)
        return _cleaned(text_to_html(body))
    if body_format == "markdown":
        rendered = _markdown()(body)
        if (kept := kept_markdown(body, rendered)) is not None:
            return clean(kept).strip()
        return _cleaned(rendered)
    return _cleaned(body)


def html_to_text(fragment: str) -> str:
    """Readable plain text from sanitised HTML (for prescreen rules, summaries and consoles)."""
    spaced = _LINE_ENDS.sub("\n", fragment)
    return html.unescape(_TAG.sub("", spaced)).strip()


def plain_words(fragment: str) -> str:
    """Whitespace-collapsed text of an HTML fragment: its words, one space between each.

    ``str.split`` and a ``\\s+`` pattern agree on what white space is (both ``str.isspace``);
    splitting is several times faster than substituting. Faster still, without a string per word:
    text whose line breaks read as spaces and which is printable has no other white space than
    the space (every other one is a control or a separator), so its runs of spaces are halved
    until none is left (sanitised text has short runs, from its line breaks).
    """
    text = html_to_text(fragment)
    collapsed = text.replace("\n", " ")
    if not _printable(collapsed):
        return " ".join(text.split())
    while "  " in collapsed:
        collapsed = collapsed.replace("  ", " ")
    return collapsed


_PRINTABLE_ASCII = bytes(range(0x20, 0x7F))


def _printable(text: str) -> bool:
    """``text.isprintable()``, for ASCII text (``isascii`` is O(1)) in a quarter of the time."""
    if text.isascii():
        return not text.encode("ascii").translate(None, _PRINTABLE_ASCII)
    return text.isprintable()


def word_count(plain: str) -> int:
    """How many words ``plain`` (text as ``plain_words`` returns it) has, without splitting it."""
    return plain.count(" ") + 1 if plain else 0
