"""What the adapters share about AWS errors: the code of a ``ClientError``, and the retry loop of
an optimistic write (read, change, write conditionally on what was read, again on a conflict)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import ClientError

log = logging.getLogger(__name__)

T = TypeVar("T")

# S3's answers to a conditional put that lost a race: 412 someone else changed (or created) the
# object since it was read; 409 a concurrent conditional write is in progress.
S3_CONFLICTS = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict"})
# S3's "no such object", as GetObject (NoSuchKey) and HeadObject (404, NotFound) say it.
S3_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


def error_code(error: ClientError) -> str:
    """The error code AWS answered with (``""`` when the response has none)."""
    return str(error.response.get("Error", {}).get("Code") or "")


def error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message") or "")


def retry_on_conflict(
    attempt: Callable[[], T],
    *,
    what: str,
    attempts: int,
    conflicts: frozenset[str] = S3_CONFLICTS,
    jitter: float = 0.0,
) -> T:
    """Run ``attempt`` (one read-change-conditional-write) until it does not lose a race.

    A ``ClientError`` whose code is in ``conflicts`` means another writer got there first: the
    attempt runs again (after a random pause of up to ``jitter`` seconds times the attempt
    number, when given), at most ``attempts`` times; any other error is raised at once."""
    for number in range(1, attempts + 1):
        try:
            return attempt()
        except ClientError as error:
            if error_code(error) not in conflicts:
                raise
            log.info("%s changed while writing it; reading it again", what)
            if jitter:
                time.sleep(random.uniform(0, jitter * number))  # noqa: S311 - jitter, not crypto
    raise RuntimeError(f"{what} kept changing; giving up after {attempts} attempts")
