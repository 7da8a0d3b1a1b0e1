"""A release body (sanitised HTML) as terminal text that keeps its structure.

The body is stored as sanitised HTML (``functions/domain/sanitise.py``: paragraphs, headings,
lists, quotes, tables, links, emphasis, code). This turns it into rich renderables: paragraphs
separated by a blank line, headings in bold, bulleted and numbered lists (nested ones indented),
quotes behind a bar, tables as tables, links followed by their URL. Every piece of text goes
through ``cli.terminal.shown``: it is never parsed as markup and control characters stay visible
escapes, whatever the HTML held.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from rich.console import RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from cli.terminal import shown

_SPACE = re.compile(r"\s+")
_INLINE_STYLES = {
    "strong": "bold", "b": "bold", "em": "italic", "i": "italic", "u": "underline",
    "del": "strike", "s": "strike", "code": "bold cyan", "mark": "reverse", "sup": "", "sub": "",
}  # fmt: skip
_HEADINGS = {"h1": "bold underline", "h2": "bold underline", "h3": "bold", "h4": "bold", "h5": "bold italic"}
_BLOCKS = {"p", "div", "pre", "li", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "figcaption"}


@dataclass
class _List:
    ordered: bool
    number: int = 0


@dataclass
class _Table:
    rows: list[tuple[bool, list[Text]]] = field(default_factory=list)
    row: list[Text] | None = None
    header_row: bool = False


class _Renderer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[RenderableType] = []
        self.in_list: list[int] = []  # per block: its list (items of one list follow closely), or 0
        self._list_serial = 0
        self._text: Text | None = None  # the block being written
        self._styles: list[str] = []
        self._lists: list[_List] = []
        self._quote = 0
        self._pre = 0
        self._links: list[str | None] = []
        self._tables: list[_Table] = []
        self._cell: Text | None = None

    # -- blocks -----------------------------------------------------------------------------------

    def _target(self) -> Text:
        if self._cell is not None:
            return self._cell
        if self._text is None:
            self._text = Text()
            if self._quote:
                self._text.append("│ " * self._quote, style="dim")
        return self._text

    def _end_block(self) -> None:
        text, self._text = self._text, None
        if text is None or not text.plain.strip(" │"):
            return
        text.rstrip()
        if self._quote:
            text.stylize("italic", 2 * self._quote)
        self._add(text, in_list=self._list_serial if self._lists else 0)

    def _add(self, block: RenderableType, *, in_list: int = 0) -> None:
        self.blocks.append(block)
        self.in_list.append(in_list)

    def _start_item(self) -> None:
        self._end_block()
        level = max(0, len(self._lists) - 1)
        current = self._lists[-1] if self._lists else _List(ordered=False)
        current.number += 1
        marker = f"{current.number}. " if current.ordered else ("•", "◦", "▪")[level % 3] + " "
        self._target().append("  " * level + marker, style="bold" if current.ordered else "")

    # -- parser callbacks -----------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        opener = getattr(self, f"_open_{tag}", None)
        if opener is not None:
            opener(dict(attrs))
        elif tag in _INLINE_STYLES:
            self._styles.append(_INLINE_STYLES[tag])
        elif tag in _BLOCKS:
            if tag == "p" and self._text is not None and self._lists and not self._text.plain.strip(" •◦▪│"):
                return  # a loose list's paragraph continues its item's line
            self._end_block()
            self._pre += tag == "pre"
            if tag in _HEADINGS or tag == "h6":
                self._styles.append(_HEADINGS.get(tag, "bold"))

    def handle_endtag(self, tag: str) -> None:
        closer = getattr(self, f"_close_{tag}", None)
        if closer is not None:
            closer()
        elif tag in _INLINE_STYLES:
            self._pop_style()
        elif tag in _BLOCKS:
            if tag in _HEADINGS or tag == "h6":
                self._pop_style()
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
            if tag != "p" or not self._lists:
                self._end_block()

    def _pop_style(self) -> None:
        if self._styles:
            self._styles.pop()

    # lists
    def _open_list(self, ordered: bool) -> None:
        self._end_block()
        if not self._lists:
            self._list_serial += 1
        self._lists.append(_List(ordered=ordered))

    def _open_ul(self, _: dict[str, str | None]) -> None:
        self._open_list(False)

    def _open_ol(self, _: dict[str, str | None]) -> None:
        self._open_list(True)

    def _open_li(self, _: dict[str, str | None]) -> None:
        self._start_item()

    def _close_list(self) -> None:
        self._end_block()
        if self._lists:
            self._lists.pop()

    _close_ul = _close_ol = _close_list

    # quotes, rules, line breaks
    def _open_blockquote(self, _: dict[str, str | None]) -> None:
        self._end_block()
        self._quote += 1

    def _close_blockquote(self) -> None:
        self._end_block()
        self._quote = max(0, self._quote - 1)

    def _open_br(self, _: dict[str, str | None]) -> None:
        self._target().append("\n")

    def _open_hr(self, _: dict[str, str | None]) -> None:
        self._end_block()
        self._add(Rule(style="dim"))

    # links
    def _open_a(self, attrs: dict[str, str | None]) -> None:
        self._links.append(attrs.get("href"))
        self._styles.append("underline")

    def _close_a(self) -> None:
        href = self._links.pop() if self._links else None
        self._pop_style()
        self._show_url(href)

    # tables
    def _open_table(self, _: dict[str, str | None]) -> None:
        self._end_block()
        self._tables.append(_Table())

    def _close_table(self) -> None:
        if self._tables:
            self._add(_table(self._tables.pop()))

    def _open_tr(self, _: dict[str, str | None]) -> None:
        if self._tables:
            self._tables[-1].row = []
            self._tables[-1].header_row = False

    def _close_tr(self) -> None:
        if self._tables and self._tables[-1].row is not None:
            table = self._tables[-1]
            table.rows.append((table.header_row, table.row or []))
            table.row = None

    def _open_td(self, _: dict[str, str | None]) -> None:
        if self._tables:
            self._cell = Text()

    def _open_th(self, attrs: dict[str, str | None]) -> None:
        if self._tables:
            self._cell = Text()
            self._tables[-1].header_row = True

    def _close_cell(self) -> None:
        if self._tables and self._cell is not None:
            row = self._tables[-1].row
            self._cell.rstrip()
            if row is not None:
                row.append(self._cell)
            self._cell = None

    _close_td = _close_th = _close_cell

    def _show_url(self, href: str | None) -> None:
        """A link's URL after its text, unless the text already is the URL."""
        if not href:
            return
        target = self._target()
        written = target.plain.rstrip()
        if written.endswith(href) or written.endswith(href.removeprefix("mailto:")):
            return
        target.append_text(joined_dim(" <", shown(href), ">"))

    def handle_data(self, data: str) -> None:
        if self._pre:
            text = data
        else:
            text = _SPACE.sub(" ", data)
            target = self._cell if self._cell is not None else self._text
            current = target.plain if target is not None else ""
            if not current.strip(" •◦▪│0123456789.") or current.endswith((" ", "\n")):
                text = text.lstrip()
            if not text:
                return
        self._target().append_text(shown(text, style=" ".join(s for s in self._styles if s)))

    def close(self) -> None:
        super().close()
        self._end_block()


def joined_dim(*parts: str | Text) -> Text:
    result = Text(style="dim")
    for part in parts:
        result.append(part)
    return result


def _table(table: _Table) -> Table:
    header = table.rows[0][1] if table.rows and table.rows[0][0] else None
    body = table.rows[1:] if header is not None else table.rows
    width = max([len(cells) for _, cells in table.rows] or [0])
    grid = Table(show_header=header is not None, header_style="bold", show_lines=False, expand=False)
    for index in range(width):
        grid.add_column(header[index] if header is not None and index < len(header) else "")
    for _, cells in body:
        grid.add_row(*(cells + [Text("")] * (width - len(cells))))
    return grid


def render_body(fragment: str) -> list[RenderableType]:
    """The blocks of a sanitised HTML body, in order (paragraphs, lists, quotes, tables...), to
    be shown with a blank line between them; a list's items are one block."""
    renderer = _Renderer()
    renderer.feed(fragment or "")
    renderer.close()
    blocks: list[RenderableType] = []
    previous_item = 0
    for block, item in zip(renderer.blocks, renderer.in_list, strict=True):
        if item and item == previous_item and isinstance(blocks[-1], Text) and isinstance(block, Text):
            blocks[-1].append("\n")
            blocks[-1].append_text(block)
        else:
            blocks.append(block)
        previous_item = item
    return blocks
