"""The site's pages work under the Content-Security-Policy CloudFront sends with them
(template.yaml, SiteResponseHeadersPolicy): nothing on a page needs what the policy forbids,
even when the submitter tried to put it there. The policy allows no inline style or script:
the stylesheet is a file of the site, and the only inline ``<script>`` is JSON-LD, a data block
browsers never run."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import lxml.html
import pytest

from functions.domain.publish.site import (
    render_day_page,
    render_index,
    render_killed_page,
    render_month_page,
    render_not_found,
    render_organisations_page,
    render_page,
)
from infra.template import load_template
from tests.unit.publish.samples import CATEGORY_ORDER, IDENTITY, RELEASE_ID, SITE, entry, published

HOSTILE_BODY = (
    "<p>Text <script>alert(1)</script><img src=x onerror=alert(2)>"
    '<a href="javascript:alert(3)">link</a><iframe src="https://evil.example"></iframe>'
    '<form action="https://evil.example"><input name=q></form><base href="https://evil.example/">'
    '<style>body{display:none}</style><object data="x"></object>'
    '<img src="https://images.example/photo.jpg" alt="photo"></p>'
)
FORBIDDEN_ELEMENTS = ("base", "form", "iframe", "frame", "object", "embed", "applet")


def _csp() -> dict[str, list[str]]:
    resource = load_template()["Resources"]["SiteResponseHeadersPolicy"]
    config = resource["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    policy = config["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in policy.split(";")) if d}


def _same_origin(url: str) -> bool:
    split = urlsplit(url)
    return not split.scheme or url.startswith(SITE)


def _pages() -> dict[str, str]:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    pages = {
        f"release-{category}": render_page(
            published(category, body=HOSTILE_BODY, body_format="html"), IDENTITY
        )
        for category in CATEGORY_ORDER
    }
    latest = [entry(n, category=c) for n, c in enumerate(CATEGORY_ORDER, start=1)]
    pages["index"] = render_index(
        latest,
        {c: [e for e in latest if e.category == c] for c in CATEGORY_ORDER},
        site=IDENTITY,
        generated_at=now,
    )
    pages["killed"] = render_killed_page(
        RELEASE_ID, "Withdrawn <script>x</script>", site=IDENTITY, killed_at=now
    )
    pages["404"] = render_not_found(IDENTITY)
    pages["day"] = render_day_page(now.date(), latest, number=1, pages=2, site=IDENTITY)
    pages["month"] = render_month_page(2026, 6, {now.date(): (5, 1)}, site=IDENTITY)
    pages["organisations"] = render_organisations_page({"org-acme": "<b>Acme</b>"}, site=IDENTITY)
    return pages


@pytest.mark.parametrize(("name", "page"), sorted(_pages().items()))
def test_pages_need_nothing_the_policy_forbids(name: str, page: str) -> None:
    csp = _csp()
    root = lxml.html.document_fromstring(page)
    assert csp["script-src"] == ["'self'"]
    for script in root.iter("script"):  # no inline script; at most the site's own files
        if script.get("type") == "application/ld+json":  # a data block: never executed
            assert not script.get("src"), name
            continue
        assert script.get("src"), f"{name} has an inline script"
        assert _same_origin(script.get("src")), name
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        assert element.tag not in FORBIDDEN_ELEMENTS, (name, element.tag)
        for attribute, value in element.attrib.items():
            assert not attribute.lower().startswith("on"), (name, element.tag, attribute)
            assert not value.strip().lower().startswith("javascript:"), (name, element.tag, attribute)
    for image in root.iter("img"):
        src = image.get("src", "")
        assert _same_origin(src) or urlsplit(src).scheme in ("https", "data"), (name, src)
    [stylesheet] = root.xpath("//link[@rel='stylesheet']")
    assert _same_origin(stylesheet.get("href")), name
    assert not root.xpath("//style | //*[@style]"), f"{name} has inline styles the policy would block"


def test_the_policy_allows_no_inline_style_or_script() -> None:
    csp = _csp()
    assert csp["style-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in " ".join(value for values in csp.values() for value in values)
