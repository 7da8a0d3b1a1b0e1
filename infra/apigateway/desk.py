"""The web desk on the local stack: ``/desk/`` served from the site bucket's ``desk/``, as the
distribution's ``desk/*`` cache behaviour serves it on AWS.

At its start the local stack does what the template's ``Custom::DeskFiles`` resource does on a
deploy (``functions.domain.desk`` and ``functions.adapters.s3_desk``: the files, ``config.json``
naming the local API, stale files removed), from this checkout's ``desk/`` folder (or the copy
an installed press-intake carries).
Answers carry the headers of the response headers policy of that cache behaviour, with one
change: its ``connect-src`` names the local API's origin and the local uploads bucket's form URL
instead of the region's API Gateway and S3 hosts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from infra.apigateway.site import PolicyHeader, SiteReader, response_headers_policy
from infra.template import resources_of_type

DESK_PREFIX = "/desk/"
DESK_PATH_PATTERN = "desk/*"
DESK_RESOURCE_TYPE = "Custom::DeskFiles"


def default_desk_path() -> Path | None:
    """The desk's files: this checkout's ``desk/``, else the copy packaged with press-intake."""
    here = Path(__file__).resolve().parent.parent  # infra/
    for candidate in (here.parent / "desk", here / "desk"):
        if (candidate / "index.html").is_file():
            return candidate
    return None


def with_connect_src(policy: tuple[PolicyHeader, ...], sources: str) -> tuple[PolicyHeader, ...]:
    """``policy`` with its Content-Security-Policy's ``connect-src`` set to ``sources``."""
    changed = []
    for header in policy:
        if header.name.lower() != "content-security-policy":
            changed.append(header)
            continue
        directives = [d.strip() for d in header.value.split(";") if d.strip()]
        kept = [d for d in directives if d.split()[0] != "connect-src"]
        changed.append(
            PolicyHeader(header.name, "; ".join([*kept, f"connect-src {sources}"]), header.override)
        )
    return tuple(changed)


def desk_resources(template: Mapping[str, Any]) -> dict[str, Any]:
    return resources_of_type(template, DESK_RESOURCE_TYPE)


def deploy_desk(
    s3: Any,
    template: Mapping[str, Any],
    resolve: Callable[[Any], Any],
    *,
    api_url: str,
    site_url: str,
    source: Path | None = None,
) -> str | None:
    """Put the desk into the bucket of the template's ``Custom::DeskFiles`` resource, as its
    custom resource does on AWS but naming the local API; the bucket, or None without one."""
    from functions.adapters.s3_desk import S3Desk
    from functions.domain.desk import desk_objects

    resources = desk_resources(template)
    folder = source or default_desk_path()
    if not resources or folder is None:
        return None
    properties = resolve(next(iter(resources.values())).get("Properties") or {})
    bucket = str(properties["Bucket"])
    uploads_url = desk_uploads_url(s3, template, resolve)
    S3Desk(s3, bucket).publish(
        desk_objects(folder, api_url=api_url, site_url=site_url, uploads_url=uploads_url)
    )
    return bucket


def desk_uploads_url(s3: Any, template: Mapping[str, Any], resolve: Callable[[Any], Any]) -> str | None:
    """Where the desk POSTs attachments: the form URL of the ``DeskFiles`` resource's
    ``UploadsBucket`` as this S3 client presigns it (as the API's presigned POSTs name it), or
    None when the desk names no uploads bucket."""
    from functions.adapters.s3_media import S3MediaObjects

    resources = desk_resources(template)
    if not resources:
        return None
    properties = resolve(next(iter(resources.values())).get("Properties") or {})
    uploads = str(properties.get("UploadsBucket") or "")
    return S3MediaObjects(s3, uploads).form_url() if uploads else None


def desk_reader(
    s3: Any, bucket: str, template: Mapping[str, Any], resolve: Callable[[Any], Any], *, api_origin: str
) -> SiteReader:
    """``/desk/`` from the bucket's ``desk/``, with the desk's response headers policy (its
    ``connect-src``: the desk, the local API and the local uploads bucket's form URL)."""
    from functions.domain.desk import connect_sources

    policy = response_headers_policy(template, resolve, path_pattern=DESK_PATH_PATTERN)
    sources = connect_sources(api_origin, desk_uploads_url(s3, template, resolve))
    return SiteReader(
        s3,
        bucket,
        with_connect_src(policy, sources),
        prefix=DESK_PREFIX,
        key_prefix="desk/",
        bare_redirect=True,
    )
