"""AWS calls by the kind of object they touch: where a publication's calls go.

``ObjectCalls(clients)`` listens on the functions' clients (botocore ``before-parameter-build``:
once per call, with its parameters) and counts each call under a kind: an S3 call by its key
(``releases/{id}.html`` is a release's page, ``catalogs/days/...`` a day's catalog page,
``sitemap-*.xml`` a sitemap...), any other service's call by its service (``dynamodb``, ``sqs``,
``scheduler``). ``take()`` returns the counts since the last take, as ``{kind: {operation: n}}``;
``breakdown()`` turns several takes into rows.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

# (kind, pattern of the S3 key), the first that matches wins
_S3_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("release page", r"^releases/[^/]+\.html$"),
        ("release ninjs", r"^releases/[^/]+\.json$"),
        ("release version (releases bucket)", r"^orgs/[^/]+/releases/"),
        ("media", r"^(media|renditions|uploads)/"),
        ("catalog: front", r"^catalogs/front\.json$"),
        ("catalog: organisations", r"^catalogs/organisations\.json$"),
        ("catalog: day pages", r"^catalogs/days/"),
        ("catalog: site, categories, orgs", r"^catalogs/"),
        ("index.html", r"^index\.html$"),
        ("feeds", r"^feeds/"),
        ("category pages", r"^categories/"),
        ("org pages", r"^(orgs/[^/]+\.html|organisations\.html)$"),
        ("month pages", r"^archive/\d{4}-\d{2}\.html$"),
        ("day pages", r"^archive/"),
        ("sitemaps", r"^(news-)?sitemap.*\.xml$"),
    )
)


def object_kind(service: str, key: str | None) -> str:
    """The kind of object a call touches (its service's name, for a call that is not on an S3 key)."""
    if service != "s3" or not key:
        return service
    for kind, pattern in _S3_KINDS:
        if pattern.search(key):
            return kind
    return "s3: other"


class ObjectCalls:
    """Counts the calls made on ``clients`` ({service: boto3 client}) by object kind and operation."""

    def __init__(self, clients: dict[str, Any]) -> None:
        self._clients = clients
        self.counts: dict[str, Counter[str]] = {}
        for service, client in clients.items():
            client.meta.events.register(
                f"before-parameter-build.{service}", self._count, unique_id=self._uid(service)
            )

    @staticmethod
    def _uid(service: str) -> str:
        return f"bench-object-calls-{service}"

    def _count(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        service = model.service_model.service_name
        kind = object_kind(service, params.get("Key"))
        self.counts.setdefault(kind, Counter())[model.name] += 1

    def take(self) -> dict[str, Counter[str]]:
        taken, self.counts = self.counts, {}
        return taken

    def close(self) -> None:
        for service, client in self._clients.items():
            client.meta.events.unregister(f"before-parameter-build.{service}", unique_id=self._uid(service))


def breakdown(takes: Sequence[dict[str, Counter[str]]], per: int) -> list[tuple[str, ...]]:
    """Rows (kind, calls per ``per``, its operations) over ``takes``, the most calls first."""
    total: dict[str, Counter[str]] = {}
    for taken in takes:
        for kind, operations in taken.items():
            total.setdefault(kind, Counter()).update(operations)
    rows = sorted(total.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    result = [
        (
            kind,
            f"{sum(operations.values()) / per:.2f}",
            ", ".join(f"{op} {n / per:.2f}" for op, n in sorted(operations.items())),
        )
        for kind, operations in rows
    ]
    everything = sum(sum(ops.values()) for ops in total.values())
    result.append(("total", f"{everything / per:.2f}", ""))
    return result
