"""The local /site/ sends the headers of the CloudFront response headers policy the template
declares, so that the local site and the distribution cannot drift."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.apigateway.gateway import ApiGateway
from infra.apigateway.server import LocalHttpServer
from infra.apigateway.site import PolicyHeader, SiteReader, response_headers_policy
from infra.bootstrap import bootstrap
from infra.template import load_template

SITE_ONLY = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  SiteBucket:
    Type: AWS::S3::Bucket
  SiteResponseHeadersPolicy:
    Type: AWS::CloudFront::ResponseHeadersPolicy
    Properties:
      ResponseHeadersPolicyConfig:
        Name: !Sub "${AWS::StackName}-site-headers"
        SecurityHeadersConfig:
          ContentSecurityPolicy:
            ContentSecurityPolicy: "default-src 'self'; script-src 'none'; frame-ancestors 'none'"
            Override: true
          ContentTypeOptions:
            Override: true
          FrameOptions:
            FrameOption: DENY
            Override: true
          ReferrerPolicy:
            ReferrerPolicy: strict-origin-when-cross-origin
            Override: true
          StrictTransportSecurity:
            AccessControlMaxAgeSec: 63072000
            IncludeSubdomains: true
            Override: true
        CustomHeadersConfig:
          Items:
            - Header: Permissions-Policy
              Value: "camera=(), microphone=()"
              Override: false
  SiteDistribution:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        DefaultCacheBehavior:
          TargetOriginId: site
          ViewerProtocolPolicy: redirect-to-https
          ResponseHeadersPolicyId: !Ref SiteResponseHeadersPolicy
"""

EXPECTED = {
    "content-security-policy": "default-src 'self'; script-src 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "strict-transport-security": "max-age=63072000; includeSubDomains",
    "permissions-policy": "camera=(), microphone=()",
}


def _template(tmp_path: Path, text: str) -> dict[str, Any]:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    return load_template(path)


@pytest.fixture
def served(tmp_path: Path, gateway: ApiGateway, s3: Any) -> Iterator[tuple[LocalHttpServer, SiteReader]]:
    template = _template(tmp_path, SITE_ONLY)
    site_stack = bootstrap(boto3.client, template=template, stack_name="site-only")
    bucket = site_stack.ref("SiteBucket")
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"<h1>News</h1>", ContentType="text/html")
    site = SiteReader(s3, bucket, response_headers_policy(template, site_stack.resolver.resolve))
    server = LocalHttpServer("127.0.0.1", 0, gateway, site)
    server.start()
    yield server, site
    server.stop()


def _get(server: LocalHttpServer, method: str, path: str) -> tuple[int, dict[str, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/site/", 200),
        ("HEAD", "/site/index.html", 200),
        ("GET", "/site/missing.html", 404),
        ("POST", "/site/index.html", 405),
        ("OPTIONS", "/site/", 204),
    ],
)
def test_every_site_answer_carries_the_policys_headers(
    served: tuple[LocalHttpServer, SiteReader], method: str, path: str, status: int
) -> None:
    code, headers = _get(served[0], method, path)
    assert code == status
    assert {name: headers.get(name) for name in EXPECTED} == EXPECTED


def test_the_api_does_not_get_the_sites_headers(served: tuple[LocalHttpServer, SiteReader]) -> None:
    _, headers = _get(served[0], "GET", "/openapi.json")
    assert not set(EXPECTED) & set(headers)


def test_a_template_without_a_policy_adds_no_headers(tmp_path: Path) -> None:
    text = SITE_ONLY.split("  SiteResponseHeadersPolicy:", 1)[0]
    assert response_headers_policy(_template(tmp_path, text)) == ()


def test_the_policy_the_distribution_names_wins_over_others(tmp_path: Path) -> None:
    other = """
  OtherPolicy:
    Type: AWS::CloudFront::ResponseHeadersPolicy
    Properties:
      ResponseHeadersPolicyConfig:
        Name: other
        SecurityHeadersConfig:
          FrameOptions:
            FrameOption: SAMEORIGIN
            Override: true
"""
    template = _template(tmp_path, SITE_ONLY + other)
    headers = {h.name: h.value for h in response_headers_policy(template)}
    assert headers["X-Frame-Options"] == "DENY"


def test_a_header_without_override_keeps_the_origins_value() -> None:
    from infra.apigateway.site import with_policy_headers

    policy = [
        PolicyHeader("Cache-Control", "max-age=60", override=False),
        PolicyHeader("X-Frame-Options", "DENY"),
    ]
    merged = with_policy_headers([("Cache-Control", "no-cache"), ("X-Frame-Options", "SAMEORIGIN")], policy)
    assert merged == [("Cache-Control", "no-cache"), ("X-Frame-Options", "DENY")]
