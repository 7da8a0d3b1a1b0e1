"""The web desk on the local stack: /desk/ from the site bucket, with the desk's response headers
policy (its connect-src naming the local API), as the template's custom resource puts it there."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.apigateway.desk import deploy_desk, desk_reader
from infra.apigateway.site import SiteReader
from infra.bootstrap import LocalStack
from tests.functional.conftest import template

API = "http://127.0.0.1:3999"


def _csp(value: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (part.strip() for part in value.split(";")) if d}


@pytest.fixture
def desk(stack: LocalStack, s3: Any) -> SiteReader:
    bucket = deploy_desk(s3, template(), stack.resolver.resolve, api_url=API, site_url=f"{API}/site/")
    assert bucket == stack.ref("SiteBucket")
    return desk_reader(s3, bucket, template(), stack.resolver.resolve, api_origin=API)


def test_the_desk_is_served_with_its_own_strict_headers(desk: SiteReader, stack: LocalStack, s3: Any) -> None:
    page = desk.respond("GET", "/desk/")
    # where the API's presigned POSTs send attachments: the uploads bucket, as this S3 names it
    form = s3.generate_presigned_post(Bucket=stack.ref("MediaUploadsBucket"), Key="uploads/x")
    uploads = form["url"].rstrip("/")

    assert page.status == 200
    assert page.header("Content-Type") == "text/html; charset=utf-8"
    csp = _csp(page.header("Content-Security-Policy") or "")
    assert csp["script-src"] == ["'self'"]  # no inline script, no eval
    assert csp["style-src"] == ["'self'"]  # no inline style either
    assert csp["connect-src"] == [
        "'self'",
        API,
        uploads,
    ]  # the page, the API, the uploads bucket: nothing else
    assert uploads == f"https://{stack.ref('MediaUploadsBucket')}.s3.amazonaws.com"
    meta = f'<meta http-equiv="Content-Security-Policy" content="connect-src \'self\' {API} {uploads}">'
    assert meta.encode() in page.body  # index.html narrows the header's sources to the same
    assert csp["require-trusted-types-for"] == ["'script'"]
    assert csp["trusted-types"] == ["desk-preview"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert page.header("X-Content-Type-Options") == "nosniff"
    assert page.header("X-Frame-Options") == "DENY"
    assert page.header("Referrer-Policy") == "no-referrer"
    assert page.header("Cross-Origin-Opener-Policy") == "same-origin"
    assert b'<script type="module" src="js/main.js"></script>' in page.body
    assert b"onclick" not in page.body  # no inline handler
    assert b"<script>" not in page.body  # no inline script


def test_config_names_the_local_api_and_scripts_are_javascript(desk: SiteReader) -> None:
    config = desk.respond("GET", "/desk/config.json")
    assert json.loads(config.body) == {"api_url": API, "site_url": f"{API}/site/"}
    script = desk.respond("GET", "/desk/js/main.js")
    assert script.header("Content-Type") == "text/javascript; charset=utf-8"
    assert desk.respond("GET", "/desk/Makefile").status == 404
    assert desk.respond("GET", "/desk/../index.html").status == 404


def test_the_bare_path_redirects_to_the_folder_and_the_desk_is_read_only(desk: SiteReader) -> None:
    bare = desk.respond("GET", "/desk")
    assert (bare.status, bare.header("Location")) == (308, "/desk/")
    refused = desk.respond("POST", "/desk/index.html")
    assert refused.status == 405


def test_the_template_serves_the_desk_with_its_own_behaviour_and_policy() -> None:
    config = template()["Resources"]["SiteDistribution"]["Properties"]["DistributionConfig"]
    [behaviour] = config["CacheBehaviors"]
    assert behaviour["PathPattern"] == "desk/*"
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "DeskResponseHeadersPolicy"}
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    policy = template()["Resources"]["DeskResponseHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    value = policy["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    csp = _csp(value)
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in value
    assert "'unsafe-eval'" not in value
    # no other origins than API Gateway's and S3's (index.html's <meta> narrows them to the
    # stack's own API and uploads bucket)
    assert csp["connect-src"] == [
        "'self'",
        "https://*.execute-api.${AWS::Region}.${AWS::URLSuffix}",
        "https://*.s3.${AWS::URLSuffix}",
        "https://*.s3.${AWS::Region}.${AWS::URLSuffix}",
    ]
    assert all(h["Override"] is True for h in policy["SecurityHeadersConfig"].values())
    assert template()["Outputs"]["DeskUrl"]["Value"]["Fn::If"][2] == {
        "Fn::Sub": "https://${SiteDistribution.DomainName}/desk/"
    }


def test_a_template_without_the_desk_serves_none(stack: LocalStack, s3: Any) -> None:
    bare = {"Resources": {k: v for k, v in template()["Resources"].items() if k != "DeskFiles"}}
    assert deploy_desk(s3, bare, stack.resolver.resolve, api_url=API, site_url=API) is None
