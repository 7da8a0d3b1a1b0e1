"""The site bucket as the CloudFront distribution serves it, for the local stack's ``/site/``.

Objects are served read-only with their content type (``/site/`` is ``index.html``), and every
answer carries the headers of the distribution's response headers policy, read from the
template (``AWS::CloudFront::ResponseHeadersPolicy``: its security headers and custom headers),
so that the local site and the deployed one cannot drift. A template without such a policy
gets none. A path with nothing behind it gets the distribution's custom error page for 404
(its ``CustomErrorResponses``: ``/404.html``) with that status, as CloudFront answers; without
one, or before the page exists, a problem document.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from infra.apigateway.gateway import HttpResponse, problem
from infra.template import resources_of_type

SITE_PREFIX = "/site/"
SITE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class PolicyHeader:
    """One header a response headers policy adds; ``override`` replaces the origin's own."""

    name: str
    value: str
    override: bool = True


def _behaviour(config: Mapping[str, Any], path_pattern: str | None) -> Mapping[str, Any]:
    """The distribution's default cache behaviour, or the one of ``path_pattern``."""
    if path_pattern is None:
        return config.get("DefaultCacheBehavior") or {}
    for behaviour in config.get("CacheBehaviors") or []:
        if behaviour.get("PathPattern") == path_pattern:
            return dict(behaviour)
    return {}


def error_page(template: Mapping[str, Any], status: int = 404) -> tuple[str, int] | None:
    """The bucket key and status of the distribution's custom error response for a missing
    object (CloudFront: 403 or 404 from the origin), or None."""
    for spec in resources_of_type(template, "AWS::CloudFront::Distribution").values():
        config = (spec.get("Properties") or {}).get("DistributionConfig") or {}
        for item in config.get("CustomErrorResponses") or []:
            if int(item.get("ErrorCode", 0)) == status and item.get("ResponsePagePath"):
                return str(item["ResponsePagePath"]).lstrip("/"), int(item.get("ResponseCode", status))
    return None


def _referenced_policy(template: Mapping[str, Any], path_pattern: str | None = None) -> str | None:
    """The policy a distribution's default cache behaviour (or the behaviour of ``path_pattern``)
    uses (``!Ref`` or ``!GetAtt .Id``)."""
    for spec in resources_of_type(template, "AWS::CloudFront::Distribution").values():
        config = (spec.get("Properties") or {}).get("DistributionConfig") or {}
        ref = _behaviour(config, path_pattern).get("ResponseHeadersPolicyId")
        if isinstance(ref, Mapping):
            if "Ref" in ref:
                return str(ref["Ref"])
            if "Fn::GetAtt" in ref:
                return str(ref["Fn::GetAtt"][0])
    return None


def response_headers_policy(
    template: Mapping[str, Any],
    resolve: Callable[[Any], Any] = lambda value: value,
    path_pattern: str | None = None,
) -> tuple[PolicyHeader, ...]:
    """The headers the site's response headers policy adds (none when the template has none).

    The policy is the one the distribution's default cache behaviour names, else the
    template's only ``AWS::CloudFront::ResponseHeadersPolicy``; with ``path_pattern``, the one
    the cache behaviour of that path pattern names (none without one). ``resolve`` evaluates
    intrinsics.
    """
    policies = resources_of_type(template, "AWS::CloudFront::ResponseHeadersPolicy")
    name = _referenced_policy(template, path_pattern)
    if name not in policies and path_pattern is None:
        name = next(iter(policies)) if len(policies) == 1 else None
    if name not in policies:
        return ()
    config = resolve(((policies[name].get("Properties") or {}).get("ResponseHeadersPolicyConfig")) or {})
    return (*_security_headers(config.get("SecurityHeadersConfig") or {}), *_custom_headers(config))


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _hsts(config: Mapping[str, Any]) -> str:
    value = f"max-age={int(config['AccessControlMaxAgeSec'])}"
    if _flag(config.get("IncludeSubdomains")):
        value += "; includeSubDomains"
    if _flag(config.get("Preload")):
        value += "; preload"
    return value


def _xss(config: Mapping[str, Any]) -> str:
    if not _flag(config.get("Protection")):
        return "0"
    if _flag(config.get("ModeBlock")):
        return "1; mode=block"
    return f"1; report={config['ReportUri']}" if config.get("ReportUri") else "1"


# SecurityHeadersConfig's entries: (its key, the header, the header's value from the entry)
_SECURITY_HEADERS: tuple[tuple[str, str, Callable[[Mapping[str, Any]], str]], ...] = (
    ("ContentSecurityPolicy", "Content-Security-Policy", lambda c: str(c["ContentSecurityPolicy"])),
    ("ContentTypeOptions", "X-Content-Type-Options", lambda c: "nosniff"),
    ("FrameOptions", "X-Frame-Options", lambda c: str(c["FrameOption"])),
    ("ReferrerPolicy", "Referrer-Policy", lambda c: str(c["ReferrerPolicy"])),
    ("StrictTransportSecurity", "Strict-Transport-Security", _hsts),
    ("XSSProtection", "X-XSS-Protection", _xss),
)


def _security_headers(security: Mapping[str, Any]) -> list[PolicyHeader]:
    return [
        PolicyHeader(header, value(security[key]), _flag(security[key].get("Override")))
        for key, header, value in _SECURITY_HEADERS
        if isinstance(security.get(key), Mapping)
    ]


def _custom_headers(config: Mapping[str, Any]) -> list[PolicyHeader]:
    items = (config.get("CustomHeadersConfig") or {}).get("Items") or []
    return [PolicyHeader(str(i["Header"]), str(i["Value"]), _flag(i.get("Override"))) for i in items]


def with_policy_headers(
    headers: Sequence[tuple[str, str]], policy: Sequence[PolicyHeader]
) -> list[tuple[str, str]]:
    """The origin's headers with the policy's added, as CloudFront adds them."""
    result = list(headers)
    for header in policy:
        present = any(name.lower() == header.name.lower() for name, _ in result)
        if present and not header.override:
            continue
        result = [(n, v) for n, v in result if n.lower() != header.name.lower()]
        result.append((header.name, header.value))
    return result


def _object_key(path: str, prefix: str = SITE_PREFIX, key_prefix: str = "") -> str | None:
    """The bucket key of a path under ``prefix`` (a folder is its ``index.html``); None for ``..``
    tricks. ``key_prefix`` is where those objects are in the bucket."""
    key = unquote(path[len(prefix) :])
    if key == "" or key.endswith("/"):
        key += "index.html"
    return None if any(part in ("", ".", "..") for part in key.split("/")) else key_prefix + key


class SiteReader:
    """Read-only view of the site bucket (none until the template declares one).

    ``prefix`` is the URL path it serves (``/site/``) and ``key_prefix`` where those objects are
    in the bucket (the desk: ``/desk/`` from ``desk/``). The bare prefix (``/site``) is its
    folder, unless ``bare_redirect``: then it is a redirect to the folder (relative links in the
    folder's pages only resolve from there).
    """

    def __init__(
        self,
        s3: Any,
        bucket: str | None,
        policy: Sequence[PolicyHeader] = (),
        *,
        prefix: str = SITE_PREFIX,
        key_prefix: str = "",
        bare_redirect: bool = False,
        not_found: tuple[str, int] | None = None,
    ) -> None:
        self._s3 = s3
        self._bucket = bucket
        self.policy = tuple(policy)
        self.prefix = prefix
        self._key_prefix = key_prefix
        self._bare_redirect = bare_redirect
        self._not_found = not_found  # (key of the error page, its status)

    def serves(self, path: str) -> bool:
        return path == self.prefix.rstrip("/") or path.startswith(self.prefix)

    def respond(self, method: str, path: str) -> HttpResponse:
        """The answer to ``method`` on ``path`` (the bare prefix or under it)."""
        if not path.startswith(self.prefix) and self._bare_redirect:
            response = HttpResponse(308, [("Location", self.prefix)], b"")
        else:
            response = self._respond(method.upper(), path if path.startswith(self.prefix) else self.prefix)
        return HttpResponse(
            response.status, with_policy_headers(response.headers, self.policy), response.body
        )

    def _respond(self, method: str, path: str) -> HttpResponse:
        allow = ("Allow", ", ".join(SITE_METHODS))
        if method == "OPTIONS":
            return HttpResponse(status=204, headers=[allow], body=b"")
        if method not in ("GET", "HEAD"):
            return problem(
                405,
                "method-not-allowed",
                "Method not allowed",
                f"The site is read-only: {method} is not supported on {path}; use GET or HEAD.",
                [allow],
            )
        return self.get(path, head=method == "HEAD")

    def get(self, path: str, head: bool = False) -> HttpResponse:
        key = _object_key(path, self.prefix, self._key_prefix)
        if self._bucket is None:
            return problem(404, "not-found", "Not found", "This template declares no site bucket.")
        found = self._fetch(self._bucket, key, head) if key is not None else None
        if key is None or found is None:
            return self._missing(path, head)
        content_type = found.get("ContentType")
        if not content_type or content_type == "binary/octet-stream":
            content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        headers = [("Content-Type", content_type), ("Cache-Control", "no-cache")]
        if head:
            headers.append(("Content-Length", str(found.get("ContentLength", 0))))
        return HttpResponse(status=200, headers=headers, body=b"" if head else found["Body"].read())

    def _missing(self, path: str, head: bool) -> HttpResponse:
        """The site's own error page (with its status), as CloudFront answers; else a problem."""
        if self._bucket is not None and self._not_found is not None:
            key, status = self._not_found
            page = self._fetch(self._bucket, key, head=False)
            if page is not None:
                body = page["Body"].read()
                headers = [
                    ("Content-Type", str(page.get("ContentType") or "text/html")),
                    ("Cache-Control", "no-cache"),
                ]
                if head:
                    headers.append(("Content-Length", str(len(body))))
                return HttpResponse(status=status, headers=headers, body=b"" if head else body)
        return problem(404, "not-found", "Not found", f"Nothing is published at {path} (yet).")

    def _fetch(self, bucket: str, key: str, head: bool) -> dict[str, Any] | None:
        """The object (``head``: its metadata only), or None when there is none."""
        from botocore.exceptions import ClientError

        from functions.adapters.aws_errors import S3_MISSING, error_code

        try:
            if head:
                found: dict[str, Any] = self._s3.head_object(Bucket=bucket, Key=key)
            else:
                found = self._s3.get_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error_code(error) in S3_MISSING:
                return None
            raise
        return found
