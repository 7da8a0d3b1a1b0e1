"""The site before anything is published: its static files and its empty shared pages.

``set_up_site`` writes what no publication writes: the stylesheet (under a name carrying its
digest, ``functions.domain.publish.site.asset_path``, cacheable for a year), the favicons,
``robots.txt`` naming the sitemaps and the ``404.html`` readers get for unknown paths; then the
shared pages where the site has none (``SharedSite.ensure``: a fresh site shows an empty
newsroom, never a 404). It is idempotent and changes no page a publication wrote.

Run at every deploy by the ``SiteFiles`` custom resource (``functions.handlers.site_files``) and
by the local stack at its start, so the two sites are set up alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from functions.domain.ports import SiteWriter
from functions.domain.publish.shared import SharedSite
from functions.domain.site import Site

YEAR = 365 * 24 * 3600
DAY = 24 * 3600
HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class SiteFile:
    key: str
    body: bytes
    content_type: str
    max_age: int


def stylesheet() -> SiteFile:
    """The site's stylesheet, under the name the pages give it."""
    from functions.domain.publish.site import asset_path, static_file

    return SiteFile(asset_path("site.css"), static_file("site.css"), "text/css; charset=utf-8", YEAR)


def site_files(site: Site) -> list[SiteFile]:
    """Every static object of the site, rendered for ``site``."""
    from functions.domain.publish.site import render_not_found, static_file
    from functions.domain.publish.sitemaps import render_robots

    return [
        stylesheet(),
        SiteFile("favicon.svg", static_file("favicon.svg"), "image/svg+xml", DAY),
        SiteFile("favicon.ico", static_file("favicon.ico"), "image/x-icon", DAY),
        SiteFile("robots.txt", render_robots(site).encode(), "text/plain; charset=utf-8", 300),
        SiteFile("404.html", render_not_found(site).encode(), HTML, 300),
    ]


def set_up_site(site: Site, writer: SiteWriter, shared: SharedSite) -> list[str]:
    """Write the static files, then the empty shared pages the site lacks; the keys written."""
    written = []
    for item in site_files(site):
        if item.key == stylesheet().key:  # named by its digest: written once, never changed
            if writer.put_if_newer(item.key, item.body, item.content_type, seq=0, max_age=item.max_age):
                written.append(item.key)
            continue
        writer.put(item.key, item.body, item.content_type, max_age=item.max_age)
        written.append(item.key)
    written.extend(shared.ensure().written)
    return written
