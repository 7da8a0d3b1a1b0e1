"""The site-refresh queue: requests to rewrite the site's shared objects with some entries'
changes, sent by the publisher (one per batch) and consumed by the site-refresh function, the
only writer of the shared objects.

A FIFO queue with one message group (``GROUP``): its requests are applied one batch at a time,
in the order they were sent, so two rewrites never run at once. The body is
``{"changes": "<base64 of gzip of the JSON list of EntryChange.to_json()>"}`` (entries carry
their bodies for the feeds; compressed, ten typical releases take a few KB). The deduplication id
is the body's SHA-256: the same request sent twice within SQS's five-minute window (a batch
retried) is delivered once, and applied twice it would change nothing.

A request is at most ``MAX_BODY`` bytes (SQS's 256 KiB): more changes are split over several
requests, in order. A single change that does not fit even alone (a body of the longest
release in characters that do not compress) goes without the entry's body: its feed items then
carry the opening only; its page has the whole release.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from functions.domain.publish.shared import EntryChange

log = logging.getLogger(__name__)

GROUP = "site"
MAX_BODY = 262_144  # SQS's largest message, and the queue's MaximumMessageSize in the template


def encode(changes: Sequence[EntryChange]) -> str:
    packed = json.dumps([c.to_json() for c in changes], ensure_ascii=False, separators=(",", ":"))
    data = base64.b64encode(gzip.compress(packed.encode("utf-8"), compresslevel=6, mtime=0)).decode()
    return json.dumps({"changes": data}, separators=(",", ":"))


def decode(body: str) -> list[EntryChange]:
    """A request's changes (raises ``ValueError`` for a body that is not one)."""
    try:
        data = json.loads(body)["changes"]
        items = json.loads(gzip.decompress(base64.b64decode(data, validate=True)))
        return [EntryChange.from_json(item) for item in items]
    except (KeyError, TypeError, ValueError, OSError, EOFError) as error:  # binascii, JSON, dates
        raise ValueError(f"not a site-refresh request: {type(error).__name__}: {error}") from error


def _bodies(changes: Sequence[EntryChange]) -> list[str]:
    """The request bodies for ``changes``, each at most MAX_BODY bytes, in order."""
    whole = encode(changes)
    if len(whole) <= MAX_BODY:
        return [whole]
    if len(changes) == 1:
        change = changes[0]
        log.warning(
            "release %s: its entry goes to the feeds without its body (too long)", change.entry.release_id
        )
        return [encode([replace(change, entry=change.entry.without_body())])]
    middle = len(changes) // 2
    return [*_bodies(changes[:middle]), *_bodies(changes[middle:])]


class SqsSiteRefresh:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url

    def request(self, changes: Sequence[EntryChange]) -> None:
        """One request with every change (more if they do not fit in one), in order."""
        if not changes:
            return
        for body in _bodies(changes):
            self._sqs.send_message(
                QueueUrl=self._url,
                MessageBody=body,
                MessageGroupId=GROUP,
                MessageDeduplicationId=hashlib.sha256(body.encode()).hexdigest(),
            )
