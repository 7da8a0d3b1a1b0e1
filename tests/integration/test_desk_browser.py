"""The web desk in a real browser: Debian's headless Chromium, driven by Selenium, against a real
``press-intake local`` (one stack and one browser for the module).

The page is opened at ``http://localhost:PORT/desk/`` while its ``config.json`` names the API at
``http://127.0.0.1:PORT``: two origins, so every call the desk makes is a real cross-origin
request with its CORS preflight, as on AWS (site on CloudFront, API on execute-api).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import media_fixtures as files
from tests.integration.conftest import RunningStack, start_stack, stop_stack

selenium = pytest.importorskip("selenium", reason="selenium is a dev dependency (make venv installs it)")
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
)
WAIT = 20.0


def _binaries() -> tuple[str, str] | None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


class Desk:
    """The desk in the browser, as a person uses it."""

    def __init__(self, driver: Any, stack: RunningStack) -> None:
        self.driver = driver
        self.stack = stack
        self.origin = f"http://localhost:{stack.ports[0]}"

    # -- waiting and finding ----------------------------------------------------------------

    def until(self, condition: Callable[[Any], Any], what: str, timeout: float = WAIT) -> Any:
        # An element the desk re-rendered between finding and reading it is stale: look again.
        wait = WebDriverWait(
            self.driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
        )
        try:
            return wait.until(condition)
        except TimeoutException:
            path = Path(tempfile.gettempdir()) / "desk-failure.png"
            self.driver.save_screenshot(str(path))
            raise AssertionError(f"timed out waiting for {what} (screenshot {path})") from None

    def css(self, selector: str) -> list[WebElement]:
        return list(self.driver.find_elements(By.CSS_SELECTOR, selector))

    def one(self, selector: str) -> WebElement:
        return self.until(lambda d: (found := self.css(selector)) and found[0], selector)

    def read(self, selector: str, what: Callable[[WebElement], Any]) -> str:
        """``what`` of the first element of ``selector`` once there is one, found again if the
        desk re-renders it while it is read."""
        found = self.until(lambda d: (elements := self.css(selector)) and (what(elements[0]),), selector)
        return str(found[0])

    def text_of(self, selector: str) -> str:
        return self.read(selector, lambda element: element.text)

    # -- doing -------------------------------------------------------------------------------

    def open(self, route: str = "") -> None:
        self.driver.get(f"{self.origin}/desk/{route}")
        self.until(lambda d: self.css("main h1"), "a view")

    def storage(self) -> dict[str, str]:
        script = "return Object.fromEntries(Object.entries(sessionStorage));"
        return dict(self.driver.execute_script(script))

    def sign_in(self, key: str | None = None) -> None:
        self.open()
        if not self.css("#api-key"):  # already signed in in this tab
            return
        field = self.one("#api-key")
        field.clear()
        field.send_keys(key or self.stack.key)
        self.one("form.sign-in button[type=submit]").click()
        self.until(lambda d: self.css(".list-state") and "#/releases" in d.current_url, "the releases list")

    def sign_out(self) -> None:
        self.one("#sign-out").click()
        self.one("#api-key")

    def type(self, field_id: str, text: str) -> None:
        element = self.one(f"#{field_id}")
        element.clear()
        element.send_keys(text)

    def compose(self, category: str, values: dict[str, str]) -> None:
        """A new release, from a fresh draft (an earlier test's refused one, attachments and all,
        would otherwise come back)."""
        self.open("#/releases")
        self.driver.execute_script("sessionStorage.removeItem('press-intake.desk.draft')")
        self.open("#/new")
        self.one(f"#category-{category}").click()
        for field_id, text in values.items():
            self.type(field_id, text)

    def submit_button(self) -> WebElement:
        return self.one("form.compose button[type=submit]")

    def refresh_until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            # the view may re-render between finding the button and clicking it: then again
            with contextlib.suppress(StaleElementReferenceException):
                self.one(".detail .actions button.secondary").click()  # Refresh
            time.sleep(0.3)

    def status(self) -> str:
        return self.read(".status-line [data-status]", lambda element: element.get_attribute("data-status"))

    def axe(self) -> list[dict[str, Any]]:
        """axe-core's violations on the page as it is now."""
        if not self.driver.execute_script("return typeof window.axe === 'object'"):
            self.driver.execute_script(AXE.read_text(encoding="utf-8"))
        violations: list[dict[str, Any]] = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']})"
            ".then((r) => done(r.violations.map((v) => ({id: v.id, help: v.help,"
            " nodes: v.nodes.map((n) => n.target.join(' '))}))))"
            ".catch((e) => done([{id: 'axe-error', help: String(e), nodes: []}]));"
        )
        return violations

    def scheme(self, dark: bool) -> None:
        value = "dark" if dark else "light"
        self.driver.execute_cdp_cmd(
            "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": value}]}
        )

    def script_errors(self) -> list[str]:
        """Errors the page's own scripts raised (failed requests the tests provoke are not)."""
        return [
            entry["message"]
            for entry in self.driver.get_log("browser")
            if entry["level"] == "SEVERE" and entry.get("source") == "javascript"
        ]


@pytest.fixture(scope="module")
def desk_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    if shutil.which("press-intake") is None and not (Path(sys.executable).parent / "press-intake").exists():
        pytest.skip("the press-intake command is not installed (make test installs it)")
    stack = start_stack(tmp_path_factory.mktemp("desk"), "--memory")
    yield stack
    assert stop_stack(stack) == 0, stack.log.read_text()


@pytest.fixture(scope="module")
def desk(desk_stack: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    found = _binaries()
    if found is None:
        message = "chromium and chromedriver are needed (apt-get install -y chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs them (.ci/run): their absence there is a failure
        pytest.skip(message)
    from selenium.webdriver.chrome.service import Service

    chromium, chromedriver = found
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    try:
        yield Desk(driver, desk_stack)
    finally:
        driver.quit()


@pytest.fixture
def signed_in(desk: Desk) -> Desk:
    desk.sign_in()
    return desk


def _releases(stack: RunningStack) -> list[dict[str, Any]]:
    return list(stack.request("GET", "/releases?limit=100").json()["items"])


def _moderate(stack: RunningStack, *args: str) -> list[dict[str, Any]]:
    result = stack.cli("moderate", "--once", "--json", "--wait", "2", "--max", "20", *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def _drain(stack: RunningStack) -> None:
    """Decide whatever earlier tests left waiting, so the next decision is the test's own."""
    result = stack.cli(
        "moderate",
        "--once",
        "--max",
        "50",
        "--wait",
        "1",
        "--decision",
        "reject",
        "--reason",
        "other",
        "--note",
        "x",
    )
    assert result.returncode in (0, 3), result.stderr  # 3: nothing was waiting


COMMUNITY = {
    "f-headline": "Friends of the Park plant 200 trees",
    "f-details-group": "Friends of the Park",
    "f-body": "Volunteers from Friends of the Park planted 200 trees along the river on Saturday.",
    "f-contact-name": "Press Office",
    "f-contact-email": "press@park.example",
}


# -- the scenarios ---------------------------------------------------------------------------------


def test_sign_in_shows_the_apis_401_for_a_wrong_key_and_keeps_the_key_in_session_storage_only(
    desk: Desk,
) -> None:
    desk.open()
    desk.one("#api-key").send_keys("pik_0000000000000000_wrong")
    desk.one("form.sign-in button[type=submit]").click()

    refusal = desk.one(".sign-in-error [role=alert]")
    assert "Authentication required" in refusal.text  # the API's own problem title
    assert "valid, active key" in refusal.text  # and its detail
    assert desk.one("#api-key").get_attribute("aria-invalid") == "true"

    desk.sign_in()
    assert desk.storage().get("press-intake.desk.key") == desk.stack.key
    assert desk.driver.execute_script("return localStorage.length") == 0
    assert desk.driver.get_cookies() == []
    assert desk.stack.key not in desk.driver.current_url


def test_a_too_short_headline_shows_the_apis_error_at_the_headline_field(signed_in: Desk) -> None:
    desk = signed_in
    desk.compose("community", {**COMMUNITY, "f-headline": "Trees"})
    before = len(_releases(desk.stack))

    desk.submit_button().click()

    error = desk.one("#f-headline-error:not([hidden])")
    assert "at least 10 characters" in error.text  # pydantic's message, as the API sent it
    assert desk.one("#f-headline").get_attribute("aria-invalid") == "true"
    assert "f-headline-error" in (desk.one("#f-headline").get_attribute("aria-describedby") or "")
    summary = desk.one(".error-summary[role=alert]")
    assert "Headline" in summary.text
    assert len(_releases(desk.stack)) == before


def test_a_community_release_is_submitted_once_despite_a_double_click(signed_in: Desk) -> None:
    desk = signed_in
    desk.compose("community", COMMUNITY)
    before = {r["id"] for r in _releases(desk.stack)}

    ActionChains(desk.driver).double_click(desk.submit_button()).perform()

    desk.until(lambda d: "#/releases/" in d.current_url and desk.css(".status-line"), "the status view")
    new = [r for r in _releases(desk.stack) if r["id"] not in before]
    assert len(new) == 1
    assert new[0]["headline"] == COMMUNITY["f-headline"]
    assert new[0]["category"] == "community"
    assert desk.driver.current_url.endswith(f"#/releases/{new[0]['id']}")


def test_the_status_shows_pending_review(signed_in: Desk) -> None:
    desk = signed_in
    desk.compose("community", {**COMMUNITY, "f-headline": "Friends of the Park open a tool library"})
    desk.submit_button().click()

    assert desk.status() == "pending_review"
    assert "pending_review" in desk.text_of(".status-line")
    assert "Pending review" in desk.text_of(".status-line")
    assert "waiting for review" in desk.text_of(".callout.success")
    # the list shows it too
    desk.open("#/releases")
    assert desk.one("li.release[data-status=pending_review]")


def test_the_moderators_note_is_visible_and_the_revision_makes_version_2(signed_in: Desk) -> None:
    desk = signed_in
    _drain(desk.stack)
    desk.compose(
        "sports",
        {
            "f-headline": "Rovers beat United 3-1 in the derby",
            "f-details-sport": "football",
            "f-details-teams": "Rovers\nUnited",
            "f-body": "Rovers beat United 3-1 on Saturday in front of a full house at the Old Ground.",
            "f-contact-name": "Club secretary",
            "f-contact-email": "secretary@rovers.example",
        },
    )
    desk.submit_button().click()
    assert desk.status() == "pending_review"
    release_id = desk.driver.current_url.rsplit("/", 1)[-1]

    decided = _moderate(desk.stack, "--decision", "request-changes", "--note", "Add the scorers, please.")
    assert [d["release_id"] for d in decided] == [release_id]
    desk.refresh_until(lambda: desk.status() == "changes_requested", "changes requested")
    assert desk.text_of(".decision blockquote.note") == "Add the scorers, please."
    assert "Changes requested" in desk.text_of(".decision")

    desk.one(f"a[href='#/releases/{release_id}/revise']").click()
    assert "Add the scorers, please." in desk.text_of(".callout blockquote.note")
    body = desk.one("#f-body")
    assert "full house" in str(body.get_attribute("value"))  # the tab kept what it submitted
    body.send_keys(" Goals from Smith (2) and Jones.")
    desk.submit_button().click()

    desk.until(lambda d: desk.css(".status-line") and "Version 2" in desk.text_of(".callout.success"), "v2")
    assert desk.status() == "pending_review"
    view = desk.stack.request("GET", f"/releases/{release_id}")
    assert view.json()["version"] == 2
    assert view.headers["etag"].startswith('"2-')  # the view's ETag: its version and its digest


def test_after_approval_the_public_link_opens_the_page(signed_in: Desk) -> None:
    desk = signed_in
    _drain(desk.stack)
    headline = "Acme opens a repair cafe in the Old Town"
    desk.compose("community", {**COMMUNITY, "f-headline": headline})
    desk.submit_button().click()
    assert desk.status() == "pending_review"

    decided = _moderate(desk.stack, "--decision", "approve")
    assert len(decided) == 1
    desk.refresh_until(lambda: bool(desk.css(".public-link a")), "the public link")
    assert desk.status() == "published"

    desk.one(".public-link a").click()

    desk.until(lambda d: "/site/releases/" in d.current_url, "the published page")
    assert desk.one("h1").text == headline
    desk.driver.back()
    desk.one(".status-line")


def test_withdrawing_asks_first_and_then_withdraws(signed_in: Desk) -> None:
    desk = signed_in
    desk.compose("community", {**COMMUNITY, "f-headline": "Friends of the Park cancel the fun run"})
    desk.submit_button().click()
    assert desk.status() == "pending_review"

    desk.one(".detail .actions button.danger").click()
    dialog = desk.one("dialog.confirm[open]")
    dialog.find_element(By.CSS_SELECTOR, "button.secondary").click()  # keep it
    assert desk.status() == "pending_review"
    desk.one(".detail .actions button.danger").click()
    desk.one("dialog.confirm[open] button.danger").click()

    desk.until(lambda d: desk.status() == "withdrawn", "withdrawn")
    assert not desk.css(".detail .actions button.danger")  # nothing left to withdraw


def test_sign_out_clears_session_storage(signed_in: Desk) -> None:
    desk = signed_in
    desk.open("#/new")
    desk.type("f-headline", "A draft that must not stay behind")
    desk.until(lambda d: "press-intake.desk.draft" in desk.storage(), "the draft saved")
    assert desk.storage()

    desk.sign_out()

    assert desk.storage() == {}
    desk.open("#/releases")  # signed out: back to sign-in
    assert desk.css("#api-key")


# -- attachments -----------------------------------------------------------------------------------


def _file(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    path.write_bytes(content)
    return path


def _attach(desk: Desk, path: Path) -> None:
    """Chooses a file in the attachments' file control, as a person picks one."""
    desk.one("#media-file").send_keys(str(path))


def _phase(desk: Desk, index: int = 0) -> str:
    return desk.read(f"#f-media-{index}-status", lambda element: element.get_attribute("data-phase"))


def _wait_phase(desk: Desk, phases: set[str], index: int = 0) -> str:
    desk.until(lambda d: _phase(desk, index) in phases, f"attachment {index + 1} {'/'.join(sorted(phases))}")
    return _phase(desk, index)


def _stored(stack: RunningStack, release_id: str, version: int) -> dict[str, Any]:
    """The version as the API stored it (the releases bucket), what the moderators get."""
    s3 = stack.aws("s3")
    bucket = stack.info["resources"]["ReleasesBucketName"]
    key = f"orgs/{stack.info['demo_org_id']}/releases/{release_id}/v{version:04d}.json"
    document: dict[str, Any] = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    return document


def _media_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    return list(document["content"].get("media") or [])


PHOTO_ALT = "Volunteers planting an oak by the river"


def test_an_image_uploaded_with_alt_text_is_attached_and_published_with_it(
    signed_in: Desk, tmp_path: Path
) -> None:
    desk = signed_in
    _drain(desk.stack)
    headline = "Friends of the Park plant an oak avenue"
    desk.compose("community", {**COMMUNITY, "f-headline": headline})
    _attach(desk, _file(tmp_path, "oak-avenue.png", files.png(1200, 800)))

    assert _wait_phase(desk, {"ready", "rejected", "failed"}) == "ready", desk.text_of("#f-media-0-status")
    assert "1200 \N{MULTIPLICATION SIGN} 800 pixels" in desk.text_of("#f-media-0-status")
    assert desk.one("#f-media-0-role").get_attribute("value") == "featured"
    desk.type("f-media-0-alt", PHOTO_ALT)
    desk.type("f-media-0-credit", "Friends of the Park")
    desk.submit_button().click()

    desk.until(lambda d: desk.css(".status-line"), "the status view")
    release_id = desk.driver.current_url.rsplit("/", 1)[-1]
    [attachment] = _media_of(_stored(desk.stack, release_id, 1))
    assert attachment["role"] == "featured"
    assert attachment["alt"] == PHOTO_ALT
    assert attachment["credit"] == "Friends of the Park"
    media = desk.stack.request("GET", f"/media/{attachment['id']}").json()
    assert (media["status"], media["filename"]) == ("ready", "oak-avenue.png")

    assert [d["release_id"] for d in _moderate(desk.stack, "--decision", "approve")] == [release_id]
    desk.refresh_until(lambda: bool(desk.css(".public-link a")), "the public link")
    desk.one(".public-link a").click()
    desk.until(lambda d: "/site/releases/" in d.current_url, "the published page")
    image = desk.one("article figure img")
    assert image.get_attribute("alt") == PHOTO_ALT
    assert f"/media/{release_id}/{attachment['id']}/" in str(image.get_attribute("src"))
    assert desk.driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) > 0
    desk.driver.back()
    desk.one(".status-line")


def test_an_image_without_alt_text_shows_the_apis_error_at_the_field(signed_in: Desk, tmp_path: Path) -> None:
    desk = signed_in
    desk.compose("community", {**COMMUNITY, "f-headline": "Friends of the Park paint the bandstand"})
    _attach(desk, _file(tmp_path, "bandstand.jpg", files.jpeg_with_gps(900, 600, orientation=1)))
    assert _wait_phase(desk, {"ready", "rejected", "failed"}) == "ready"
    before = len(_releases(desk.stack))

    desk.submit_button().click()

    error = desk.one("#f-media-0-alt-error:not([hidden])")
    assert error.text  # the API's own message for media.0.alt
    assert desk.one("#f-media-0-alt").get_attribute("aria-invalid") == "true"
    assert "f-media-0-alt-error" in (desk.one("#f-media-0-alt").get_attribute("aria-describedby") or "")
    assert "Text alternative" in desk.text_of(".error-summary[role=alert]")
    assert len(_releases(desk.stack)) == before


def test_html_named_jpg_is_refused_by_the_check_with_its_reason(signed_in: Desk, tmp_path: Path) -> None:
    desk = signed_in
    desk.compose("community", {**COMMUNITY, "f-headline": "Friends of the Park post the summer programme"})
    _attach(desk, _file(tmp_path, "programme.jpg", files.HTML_PAGE))

    assert _wait_phase(desk, {"ready", "rejected", "failed"}) == "rejected"
    status = desk.text_of("#f-media-0-status")
    assert "(markup)" in status  # the reason code, with the API's sentence before it
    media_id = desk.one("fieldset.attachment").get_attribute("data-media-id")
    view = desk.stack.request("GET", f"/media/{media_id}").json()
    assert (view["status"], view["reason"]) == ("rejected", "markup")
    assert view["reason_detail"] in status
    assert desk.one("#f-media-0-status").get_attribute("role") == "status"  # announced as it changes

    assert not desk.css("#f-media-0-alt")  # a refused file offers only its reason and "Remove"
    desk.submit_button().click()  # a refused file is never sent: the desk says what to do
    assert "cannot be attached" in desk.text_of(".error-summary[role=alert]")
    from selenium.webdriver.common.keys import Keys

    desk.one("fieldset.attachment button.remove").send_keys(Keys.ENTER)  # with the keyboard
    desk.until(lambda d: not desk.css("fieldset.attachment"), "the attachment removed")
    assert desk.driver.switch_to.active_element.get_attribute("id") == "media-file"


def test_a_revision_keeps_the_attachment(signed_in: Desk, tmp_path: Path) -> None:
    desk = signed_in
    _drain(desk.stack)
    desk.compose("community", {**COMMUNITY, "f-headline": "Friends of the Park open the orchard"})
    _attach(desk, _file(tmp_path, "orchard.png", files.png(1000, 700)))
    assert _wait_phase(desk, {"ready", "rejected", "failed"}) == "ready"
    desk.type("f-media-0-alt", "Apple trees in blossom")
    desk.submit_button().click()
    desk.until(lambda d: desk.css(".status-line"), "the status view")
    release_id = desk.driver.current_url.rsplit("/", 1)[-1]
    [first] = _media_of(_stored(desk.stack, release_id, 1))
    _moderate(desk.stack, "--decision", "request-changes", "--note", "Say when it opens.")
    desk.refresh_until(lambda: desk.status() == "changes_requested", "changes requested")

    desk.one(f"a[href='#/releases/{release_id}/revise']").click()
    assert _wait_phase(desk, {"ready", "rejected", "failed"}) == "ready"  # looked up again
    assert desk.one("#f-media-0-alt").get_attribute("value") == "Apple trees in blossom"
    desk.one("#f-body").send_keys(" It opens on Sunday at 10.")
    desk.submit_button().click()

    desk.until(lambda d: desk.css(".status-line") and "Version 2" in desk.text_of(".callout.success"), "v2")
    assert _media_of(_stored(desk.stack, release_id, 2)) == [first]


def test_a_published_release_is_corrected_and_the_page_says_so(signed_in: Desk) -> None:
    desk = signed_in
    _drain(desk.stack)
    headline = "Friends of the Park plant 300 trees"
    desk.compose("community", {**COMMUNITY, "f-headline": headline})
    desk.submit_button().click()
    desk.until(lambda d: desk.css(".status-line"), "the status view")
    release_id = desk.driver.current_url.rsplit("/", 1)[-1]
    _moderate(desk.stack, "--decision", "approve")
    desk.refresh_until(lambda: desk.status() == "published", "published")
    public_url = desk.one(".public-link a").get_attribute("href")

    desk.one(".detail .actions a.correct").click()
    desk.one("#f-correction_note")
    assert not desk.css("#f-release_at")  # a correction keeps the release time
    assert not desk.css("input[name=category]")  # and the category
    assert desk.one("#f-headline").get_attribute("value") == headline  # the release as sent
    desk.submit_button().click()  # without a note: the API's error at the note
    assert desk.one("#f-correction_note-error:not([hidden])").text
    desk.type("f-correction_note", "Corrects the number of trees: 200, not 300.")
    desk.type("f-headline", "Friends of the Park plant 200 trees")
    desk.submit_button().click()

    desk.until(
        lambda d: desk.css(".status-line") and desk.status() == "correction_review", "correction review"
    )
    assert "Correction in review" in desk.text_of(".status-line")
    assert "Corrects the number of trees" in desk.text_of(".pending-correction")
    assert desk.one(".public-link a").get_attribute("href") == public_url  # version 1 stays public
    view = desk.stack.request("GET", f"/releases/{release_id}").json()
    assert (view["version"], view["public_version"]) == (2, 1)

    _moderate(desk.stack, "--decision", "approve")
    desk.refresh_until(
        lambda: desk.status() == "published" and bool(desk.css(".published-corrections")), "republished"
    )
    assert "Corrects the number of trees" in desk.text_of(".published-corrections")
    desk.one(".public-link a").click()
    desk.until(lambda d: "/site/releases/" in d.current_url, "the published page")
    desk.until(lambda d: "Corrected on" in d.find_element(By.TAG_NAME, "body").text, "the correction notice")
    assert desk.one("h1").text == "Friends of the Park plant 200 trees"
    desk.driver.back()
    desk.one(".status-line")


def test_a_correction_sent_back_shows_the_moderators_note(signed_in: Desk) -> None:
    desk = signed_in
    _drain(desk.stack)
    desk.compose("community", {**COMMUNITY, "f-headline": "Friends of the Park move the market"})
    desk.submit_button().click()
    desk.until(lambda d: desk.css(".status-line"), "the status view")
    _moderate(desk.stack, "--decision", "approve")
    desk.refresh_until(lambda: desk.status() == "published", "published")
    desk.one(".detail .actions a.correct").click()
    desk.type("f-correction_note", "Corrects the market's place.")
    desk.submit_button().click()
    desk.until(
        lambda d: desk.css(".status-line") and desk.status() == "correction_review", "correction review"
    )

    _moderate(desk.stack, "--decision", "request-changes", "--note", "Name the new square, please.")
    desk.refresh_until(lambda: desk.status() == "correction_changes_requested", "correction sent back")

    assert desk.text_of(".decision blockquote.note") == "Name the new square, please."
    assert "Correction: changes requested" in desk.text_of(".status-line")
    assert desk.css(".public-link a")  # the published version stays
    desk.one(".detail .actions a.correct").click()
    assert "Name the new square, please." in desk.text_of(".callout blockquote.note")
    assert desk.one("#f-correction_note").get_attribute("value") == "Corrects the market's place."


def _screens(desk: Desk, folder: Path) -> Iterator[str]:
    """Every screen of the desk, one after another (yields each one's name once it shows)."""
    desk.driver.execute_script("sessionStorage.clear()")
    desk.open()
    yield "sign in"
    desk.one("#api-key").send_keys("pik_wrong")
    desk.one("form.sign-in button[type=submit]").click()
    desk.one(".sign-in-error [role=alert]")
    yield "sign in refused"
    desk.sign_in()
    yield "releases"
    desk.compose("community", {**COMMUNITY, "f-headline": "Short"})
    desk.submit_button().click()
    desk.one("#f-headline-error:not([hidden])")
    desk.until(
        lambda d: (
            "Up to date" in desk.text_of(".preview-status") or "Not ready" in desk.text_of(".preview-status")
        ),
        "preview",
    )
    yield "compose with errors"
    desk.type("f-headline", "Friends of the Park count 40 kinds of birds")
    desk.until(lambda d: "Up to date" in desk.text_of(".preview-status"), "the preview")
    yield "compose with preview"
    desk.submit_button().click()
    desk.one(".status-line")
    yield "status"
    desk.one(".detail .actions button.danger").click()
    desk.one("dialog.confirm[open]")
    yield "withdraw dialog"
    desk.one("dialog.confirm[open] button.secondary").click()
    desk.compose("community", {**COMMUNITY, "f-headline": "Friends of the Park count the bats"})
    _attach(desk, _file(folder, "bats.png", files.png(800, 500)))
    _wait_phase(desk, {"ready"})
    yield "compose with an attachment"
    _attach(desk, _file(folder, "bats.jpg", files.HTML_PAGE))
    _wait_phase(desk, {"rejected"}, index=1)
    yield "compose with a refused attachment"
    desk.one("fieldset[data-field='media.1'] button.remove").click()
    desk.until(lambda d: len(desk.css("fieldset.attachment")) == 1, "the refused one removed")
    desk.submit_button().click()
    desk.one("#f-media-0-alt-error:not([hidden])")
    yield "compose with an attachment's error"
    desk.type("f-media-0-alt", "A bat flying at dusk")
    desk.submit_button().click()
    desk.until(lambda d: desk.css(".status-line"), "the status view")
    _moderate(desk.stack, "--decision", "approve")
    desk.refresh_until(lambda: desk.status() == "published", "published")
    yield "published"
    desk.one(".detail .actions a.correct").click()
    desk.one("#f-correction_note")
    yield "correction form"
    desk.type("f-correction_note", "Corrects the count.")
    desk.submit_button().click()
    desk.until(
        lambda d: desk.css(".status-line") and desk.status() == "correction_review", "correction review"
    )
    yield "correction in review"


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_axe_core_finds_no_violations_on_any_screen(desk: Desk, dark: bool, tmp_path: Path) -> None:
    desk.scheme(dark)
    found = {}
    try:
        for screen in _screens(desk, tmp_path):
            violations = desk.axe()
            if violations:
                found[screen] = violations
    finally:
        desk.scheme(False)
    assert found == {}


def test_at_390_pixels_nothing_overflows_horizontally(desk: Desk, tmp_path: Path) -> None:
    desk.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True},
    )
    overflowing = {}
    try:
        for screen in _screens(desk, tmp_path):
            widths = desk.driver.execute_script(
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            if widths[0] > widths[1]:
                overflowing[screen] = widths
    finally:
        desk.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert overflowing == {}


def test_the_whole_flow_works_with_the_keyboard(desk: Desk) -> None:
    from selenium.webdriver.common.keys import Keys

    desk.driver.execute_script("sessionStorage.clear()")
    desk.open()
    active = lambda: desk.driver.switch_to.active_element  # noqa: E731

    # sign in: each view puts focus on its heading; the key field is the next Tab; Enter submits
    desk.until(lambda d: active().tag_name == "h1", "focus on the heading")
    active().send_keys(Keys.TAB)
    assert active().get_attribute("id") == "api-key"
    active().send_keys(desk.stack.key, Keys.ENTER)
    desk.until(lambda d: desk.css(".list-state"), "the list")

    # compose: every control is reached with Tab, in order; Enter in a field submits
    desk.open("#/new")
    desk.one("#category-business").send_keys(Keys.ARROW_DOWN, Keys.ARROW_DOWN, Keys.ARROW_DOWN)  # community
    assert desk.one("#category-community").is_selected()
    for field_id, text in COMMUNITY.items():
        element = desk.one(f"#{field_id}")
        element.send_keys(text)
    desk.one("#f-contact-email").send_keys(Keys.ENTER)
    desk.until(lambda d: desk.css(".status-line"), "the status view")
    assert desk.status() == "pending_review"
    # the withdraw dialog: Escape closes it and focus goes back to its button
    withdraw = desk.one(".detail .actions button.danger")
    withdraw.send_keys(Keys.ENTER)
    desk.one("dialog.confirm[open]")
    active().send_keys(Keys.ESCAPE)
    desk.until(lambda d: not desk.css("dialog.confirm[open]"), "the dialog closed")
    assert active() == withdraw


def test_the_page_raised_no_script_error(desk: Desk) -> None:
    assert desk.script_errors() == []
