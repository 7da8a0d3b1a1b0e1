"""Attachments at publication, on moto: renditions copied to the site only when the release is
published (never before its time), shown on its page, in its ninjs and its feed items, removed at
a kill, changed by a correction; the original upload never reaches the site."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import feedparser
import lxml.etree
import lxml.html
import pytest
from jsonschema import Draft202012Validator
from PIL import Image

from functions.adapters.dynamodb_state import DynamoStateRepository
from functions.adapters.sqs_publish import SqsPublishQueue
from functions.domain.messages import PublishAction, PublishMessage
from functions.domain.moderation import Decision, DecisionAction, ModerationService
from infra.apigateway.routes import api_routes
from infra.bootstrap import LocalStack
from infra.lambdas import LocalFunctions
from tests import media_fixtures as files
from tests.functional.conftest import receive_all, template
from tests.functional.media_support import Verifier, uploaded
from tests.functional.pipeline import publish
from tests.helpers import ApiClient, personnel_release, sqs_event
from tests.site_checks import json_ld

SCHEMA = Path(__file__).resolve().parents[1] / "standards" / "ninjs-schema_3.1.json"


class Newsroom:
    def __init__(self, stack: LocalStack, functions: LocalFunctions, client: ApiClient) -> None:
        self.stack, self.functions, self.client = stack, functions, client
        self.s3, self.sqs = boto3.client("s3"), boto3.client("sqs")
        self.verifier = Verifier(stack, functions)
        self.moderation = ModerationService(
            states=DynamoStateRepository(boto3.client("dynamodb"), stack.ref("ReleasesTable")),
            publish=SqsPublishQueue(self.sqs, stack.ref("PublishQueue")),
            clock=lambda: datetime.now(UTC),
        )

    def media(self, data: bytes, content_type: str) -> dict[str, Any]:
        media = uploaded(self.client, self.verifier, data, content_type)
        assert media["status"] == "ready", media
        return media

    def approved(self, **overrides: Any) -> str:
        response = self.client.post("/releases", personnel_release(**overrides))
        assert response.status == 202, response.body
        release_id = str(response.json()["id"])
        assert self.moderation.decide(release_id, 1, Decision(DecisionAction.APPROVE, moderator="t")).outcome
        return release_id

    def publish_pending(self) -> None:
        bodies = [m["Body"] for m in receive_all(self.sqs, self.stack.ref("PublishQueue"))]
        assert publish(self.stack, self.functions, sqs_event(bodies)) == {"batchItemFailures": []}

    def site_keys(self, prefix: str = "") -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=self.stack.ref("SiteBucket"), Prefix=prefix)
        return [item["Key"] for item in listed.get("Contents") or []]

    def site(self, key: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=self.stack.ref("SiteBucket"), Key=key)["Body"].read())


@pytest.fixture
def newsroom(stack: LocalStack, functions_env: LocalFunctions) -> Newsroom:
    from functions.handlers.api import lambda_handler

    return Newsroom(stack, functions_env, ApiClient(lambda_handler, api_routes(template())))


def _attachments(newsroom: Newsroom) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    photo = newsroom.media(files.jpeg_with_gps(2000, 1500, orientation=1), "image/jpeg")
    extra = newsroom.media(files.png(900, 600), "image/png")
    sheet = newsroom.media(files.pdf(), "application/pdf")
    return photo, extra, sheet


def _media_list(photo: dict[str, Any], extra: dict[str, Any], sheet: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": photo["id"],
            "role": "featured",
            "alt": "Jane Doe at her desk",
            "caption": "Jane Doe",
            "credit": "Photo: Acme",
        },
        {"id": extra["id"], "role": "gallery", "alt": "The headquarters"},
        {"id": sheet["id"], "role": "document", "caption": "Fact sheet"},
    ]


def test_a_published_release_shows_its_featured_image_gallery_and_document(newsroom: Newsroom) -> None:
    photo, extra, sheet = _attachments(newsroom)
    release_id = newsroom.approved(media=_media_list(photo, extra, sheet))

    newsroom.publish_pending()

    # the renditions, and nothing else of the media, are on the site under media/{release}/
    published = sorted(newsroom.site_keys(f"media/{release_id}/"))
    assert published == sorted(
        f"media/{release_id}/{m['id']}/{r['name']}" for m in (photo, extra, sheet) for r in m["renditions"]
    )
    assert not [key for key in newsroom.site_keys() if "uploads" in key]
    # the published JPEG's renditions carry no EXIF (the upload had a GPS position)
    largest = Image.open(io.BytesIO(newsroom.site(f"media/{release_id}/{photo['id']}/w1600.webp")))
    assert not largest.getexif()
    # the page: a figure with srcset, sizes, alt, caption and credit; a gallery; the document
    page = lxml.html.fromstring(newsroom.site(f"releases/{release_id}.html"))
    figure = page.find(".//article//figure")
    image = figure.find("img")
    site = "https://site.local.invalid/"
    assert image.get("alt") == "Jane Doe at her desk"
    assert image.get("src") == f"{site}media/{release_id}/{photo['id']}/w1600.webp"
    assert [part.split()[1] for part in image.get("srcset").split(", ")] == ["320w", "800w", "1600w"]
    assert image.get("sizes")
    assert (image.get("width"), image.get("height")) == ("1600", "1200")
    assert figure.find("figcaption").text_content() == "Jane Doe Photo: Acme"
    gallery = page.find('.//section[@class="gallery-section"]')
    assert [img.get("alt") for img in gallery.iter("img")] == ["The headquarters"]
    (document,) = page.find('.//section[@class="documents"]').iter("a")
    assert document.get("href") == f"{site}media/{release_id}/{sheet['id']}/document.pdf"
    assert document.text == "Fact sheet"
    assert "PDF, " in document.getparent().text_content()
    assert page.find('.//meta[@property="og:image"]').get("content") == image.get("src")
    # ninjs: associations with renditions, valid against the vendored ninjs 3.1 schema
    ninjs = json.loads(newsroom.site(f"releases/{release_id}.json"))
    validator = Draft202012Validator(json.loads(SCHEMA.read_text()))
    assert list(validator.iter_errors(ninjs)) == []
    featured = ninjs["associations"][0]
    assert (featured["name"], featured["type"], featured["by"]) == ("featured", "picture", "Photo: Acme")
    assert [(r["width"], r["height"], r["contentType"]) for r in featured["renditions"]] == [
        (320, 240, "image/webp"),
        (800, 600, "image/webp"),
        (1600, 1200, "image/webp"),
    ]
    assert all(
        r["href"].startswith(f"{site}media/{release_id}/")
        for a in ninjs["associations"]
        for r in a["renditions"]
    )
    # feeds: the featured image as RSS <enclosure> and Atom rel="enclosure"
    for kind in ("xml", "atom"):
        entry = feedparser.parse(newsroom.site(f"feeds/all.{kind}")).entries[0]
        (enclosure,) = entry.enclosures
        assert enclosure["href"] == image.get("src"), kind
        assert enclosure["type"] == "image/webp"
        assert int(enclosure["length"]) > 0
    rss = lxml.etree.fromstring(newsroom.site("feeds/all.xml"))
    (content,) = rss.iter("{http://search.yahoo.com/mrss/}content")
    assert (content.get("url"), content.get("medium"), content.get("type")) == (
        image.get("src"),
        "image",
        "image/webp",
    )


def test_media_of_a_scheduled_release_are_not_public_before_its_time(
    newsroom: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo, extra, sheet = _attachments(newsroom)
    release_at = datetime.now(UTC) + timedelta(days=1)
    release_id = newsroom.approved(release_at=release_at.isoformat(), media=_media_list(photo, extra, sheet))

    newsroom.publish_pending()

    assert newsroom.client.get(f"/releases/{release_id}").json()["status"] == "scheduled"
    assert newsroom.site_keys(f"media/{release_id}/") == []
    # When its time comes
    from functions.handlers import publisher

    monkeypatch.setattr(publisher, "utc_now", lambda: release_at + timedelta(seconds=1))
    body = json.dumps({"release_id": release_id, "version": 1, "action": "publish"})
    assert publish(newsroom.stack, newsroom.functions, sqs_event([body])) == {"batchItemFailures": []}

    assert newsroom.client.get(f"/releases/{release_id}").json()["status"] == "published"
    assert len(newsroom.site_keys(f"media/{release_id}/")) == sum(
        len(m["renditions"]) for m in (photo, extra, sheet)
    )


def test_a_kill_removes_the_media_from_the_site(newsroom: Newsroom) -> None:
    photo, extra, sheet = _attachments(newsroom)
    release_id = newsroom.approved(media=_media_list(photo, extra, sheet))
    newsroom.publish_pending()
    assert newsroom.site_keys(f"media/{release_id}/")

    SqsPublishQueue(newsroom.sqs, newsroom.stack.ref("PublishQueue")).send(
        PublishMessage(release_id=release_id, version=1, action=PublishAction.KILL, reason="inappropriate")
    )
    newsroom.publish_pending()

    assert newsroom.site_keys(f"media/{release_id}/") == []
    page = newsroom.site(f"releases/{release_id}.html")
    assert b"<figure" not in page
    ninjs = json.loads(newsroom.site(f"releases/{release_id}.json"))
    assert "associations" not in ninjs


def test_a_correction_may_change_the_media_and_the_ones_it_drops_leave_the_site(newsroom: Newsroom) -> None:
    # Given a published release with a featured photo, a gallery image and a document
    photo, extra, sheet = _attachments(newsroom)
    release_id = newsroom.approved(media=_media_list(photo, extra, sheet))
    newsroom.publish_pending()
    old_photo = f"media/{release_id}/{photo['id']}/"
    assert newsroom.site_keys(old_photo)

    # When its organisation corrects it with another featured photo, without the gallery image
    new_photo = newsroom.media(files.png(1200, 900), "image/png")
    media = [
        {"id": new_photo["id"], "role": "featured", "alt": "Jane Doe on stage", "credit": "Photo: Bee"},
        {"id": sheet["id"], "role": "document", "caption": "Fact sheet"},
    ]
    answer = newsroom.client.put(
        f"/releases/{release_id}",
        personnel_release(media=media, correction_note="Corrects the photo: it was another Jane Doe."),
        headers={"If-Match": '"1"'},
    )
    assert answer.status == 200, answer.body
    assert answer.json()["status"] == "correction_review"

    # Then, while the correction is reviewed, version 1's media stay on the site as they were
    assert newsroom.site_keys(old_photo)
    assert newsroom.site_keys(f"media/{release_id}/{new_photo['id']}/") == []

    # When a moderator approves it and the publisher republishes it
    decided = newsroom.moderation.decide(release_id, 2, Decision(DecisionAction.APPROVE, moderator="t"))
    assert decided.outcome.value == "decided"
    newsroom.publish_pending()

    # Then the site holds exactly the corrected version's renditions: the dropped ones are gone
    assert newsroom.client.get(f"/releases/{release_id}").json()["public_version"] == 2
    assert sorted(newsroom.site_keys(f"media/{release_id}/")) == sorted(
        f"media/{release_id}/{m['id']}/{r['name']}" for m in (new_photo, sheet) for r in m["renditions"]
    )
    # the page shows the new featured image, no gallery, the document, and the correction's notice
    html = newsroom.site(f"releases/{release_id}.html")
    page = lxml.html.fromstring(html)
    (figure,) = page.findall(".//article//figure")
    image = figure.find("img")
    src = f"https://site.local.invalid/media/{release_id}/{new_photo['id']}/w1200.webp"
    assert (image.get("src"), image.get("alt")) == (src, "Jane Doe on stage")
    assert page.find('.//section[@class="gallery-section"]') is None
    assert page.find('.//section[@class="documents"]') is not None
    assert "Corrects the photo" in page.find('.//aside[@class="corrections"]').text_content()
    assert page.find('.//meta[@property="og:image"]').get("content") == src
    (article,) = json_ld(html)
    assert [item["url"] for item in article["image"]] == [src]
    # ninjs (still valid): version 2 with the new set of associations
    ninjs = json.loads(newsroom.site(f"releases/{release_id}.json"))
    assert list(Draft202012Validator(json.loads(SCHEMA.read_text())).iter_errors(ninjs)) == []
    assert ninjs["version"] == "2"
    assert [a["uri"].rsplit(":", 1)[1] for a in ninjs["associations"]] == [new_photo["id"], sheet["id"]]
    # the feed items' enclosure is the new lead image
    (entry,) = feedparser.parse(newsroom.site("feeds/all.atom")).entries
    assert [e["href"] for e in entry.enclosures] == [src]
