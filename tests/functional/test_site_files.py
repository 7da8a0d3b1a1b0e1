"""The ``SiteFiles`` custom resource on moto: what a fresh deploy leaves on the site before anything
is published (an empty newsroom, the stylesheet, favicons, robots.txt, the 404 page), and the one
answer CloudFormation always gets."""

from __future__ import annotations

import urllib.robotparser
from typing import Any

import lxml.etree
import lxml.html
import pytest

from infra.bootstrap import LocalStack
from infra.lambdas import LocalFunctions
from tests.helpers import ApiClient
from tests.site_checks import crawl

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


class Answers:
    """What CloudFormation's response URL receives (the network edge, recorded)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, url: str, body: dict[str, Any]) -> None:
        self.sent.append((url, body))


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Answers:
    import functions.adapters.custom_resource

    recorder = Answers()
    monkeypatch.setattr(functions.adapters.custom_resource, "send_response", recorder)
    return recorder


def _request(kind: str, stack: LocalStack) -> dict[str, Any]:
    return {
        "RequestType": kind,
        "ResponseURL": "https://cloudformation-custom-resource-response.example/answer",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/press-intake/1",
        "RequestId": f"request-{kind}",
        "LogicalResourceId": "SiteFiles",
        "ResourceType": "Custom::SiteFiles",
        "ResourceProperties": {"ServiceToken": "arn", "Bucket": stack.ref("SiteBucket")},
    }


def _site(stack: LocalStack, key: str) -> bytes | None:
    import boto3

    s3 = boto3.client("s3")
    try:
        return bytes(s3.get_object(Bucket=stack.ref("SiteBucket"), Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


def test_a_fresh_deploy_shows_an_empty_newsroom(
    stack: LocalStack, functions_env: LocalFunctions, answers: Answers
) -> None:
    # When CloudFormation creates the SiteFiles resource
    functions_env.invoke("SiteFilesFunction", _request("Create", stack))

    # Then it got exactly one answer: success
    [(url, body)] = answers.sent
    assert url.startswith("https://cloudformation-custom-resource-response.example/")
    assert (body["Status"], body["RequestId"], body["LogicalResourceId"]) == (
        "SUCCESS",
        "request-Create",
        "SiteFiles",
    )
    # And the site's index is a friendly empty newsroom under the site's name, not a 404
    index = _site(stack, "index.html")
    assert index is not None
    root = lxml.html.document_fromstring(index)
    assert root.findtext(".//title") == "Newsroom"
    assert "No releases have been published yet" in root.text_content()
    # Everything the index links to on the site exists (a crawler finds no broken link)
    site_url = stack.function_environment("SiteFilesFunction")["SITE_URL"]
    depth = crawl(site_url, lambda key: _site(stack, key))
    missing = [key for key in depth if "#" not in key and _site(stack, key) is None]
    assert missing == []
    # Its stylesheet and favicons are there, robots.txt names the sitemaps, the 404 page is styled
    stylesheet = root.xpath("//link[@rel='stylesheet']/@href")[0]
    assert _site(stack, str(stylesheet).removeprefix(site_url)) is not None
    assert _site(stack, "favicon.svg") is not None
    assert _site(stack, "favicon.ico") is not None
    robots = urllib.robotparser.RobotFileParser()
    robots.parse((_site(stack, "robots.txt") or b"").decode().splitlines())
    assert robots.site_maps() == [f"{site_url}sitemap.xml", f"{site_url}news-sitemap.xml"]
    assert robots.can_fetch("Googlebot", f"{site_url}index.html")
    sitemap = lxml.etree.fromstring(_site(stack, "sitemap.xml") or b"")
    assert sitemap.tag == f"{SM}sitemapindex"
    not_found = lxml.html.document_fromstring(_site(stack, "404.html") or b"")
    assert not_found.xpath("//link[@rel='stylesheet']")
    assert "Newsroom" in not_found.text_content()


def test_an_update_keeps_what_was_published_and_a_delete_removes_nothing(
    stack: LocalStack, functions_env: LocalFunctions, answers: Answers
) -> None:
    functions_env.invoke("SiteFilesFunction", _request("Create", stack))
    index = _site(stack, "index.html")

    functions_env.invoke("SiteFilesFunction", _request("Update", stack))
    functions_env.invoke("SiteFilesFunction", _request("Delete", stack))

    assert [body["Status"] for _, body in answers.sent] == ["SUCCESS"] * 3
    assert _site(stack, "index.html") == index  # the pages still use the files
    assert _site(stack, "404.html") is not None


def test_a_failure_is_a_failed_answer_never_a_hang(
    stack: LocalStack, functions_env: LocalFunctions, answers: Answers, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a site bucket that is not there
    monkeypatch.setenv("SITE_BUCKET", "no-such-bucket-anywhere")
    from functions.cold_start import reset_all

    reset_all()

    functions_env.invoke("SiteFilesFunction", _request("Create", stack))

    [(_, body)] = answers.sent
    assert body["Status"] == "FAILED"
    assert "NoSuchBucket" in body["Reason"]


def test_every_published_release_is_reachable_from_the_index_over_the_bucket(
    stack: LocalStack,
    functions_env: LocalFunctions,
    api: ApiClient,
    answers: Answers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import UTC, datetime, timedelta

    from tests.functional.test_publisher import World

    # Given a deployed site on which releases were published over two days, by the publisher
    functions_env.invoke("SiteFilesFunction", _request("Create", stack))
    for name, value in functions_env.environment.items():
        monkeypatch.setenv(name, value)
    world = World(stack, functions_env, api)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    published = []
    for number in range(4):
        world.publisher_at(monkeypatch, start + timedelta(hours=12 * number))
        published.append(world.submit_and_approve(headline=f"Acme names its officer number {number + 1}"))
        assert world.drain() == {"batchItemFailures": []}
    assert len(published) == 4

    # When a crawler starts at index.html and follows links over the site bucket
    site_url = stack.function_environment("SiteFilesFunction")["SITE_URL"]
    depth = crawl(site_url, lambda key: _site(stack, key))

    # Then it reaches every release's page within three links, and no link is broken
    for release_id in published:
        assert depth[f"releases/{release_id}.html"] <= 3, release_id
    assert [key for key in depth if "#" not in key and _site(stack, key) is None] == []
