"""Close a gap of the stand-in: moto checks a write's condition and applies the write in two
steps without a lock, so two threads can both pass the same condition. In AWS a conditional
write (DynamoDB condition expressions, S3 ``If-None-Match``/``If-Match``) is atomic, and this
project's "exactly one decision" and "a version is never overwritten" rest on that.

``make_conditional_writes_atomic()`` serialises moto's DynamoDB writes and S3 object puts
behind one lock. The local stack and the functional tests apply it; it never runs in Lambda.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

_LOCK = threading.RLock()
_APPLIED = threading.Event()

_DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
_S3_WRITES = ("put_object", "copy_object")


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    wrapper.__press_intake_atomic__ = True  # type: ignore[attr-defined]
    return wrapper


def make_conditional_writes_atomic() -> None:
    """Idempotent: wraps each write method once."""
    with _LOCK:
        if _APPLIED.is_set():
            return
        from moto.dynamodb.models import DynamoDBBackend
        from moto.s3.responses import S3Response

        for cls, names in ((DynamoDBBackend, _DYNAMODB_WRITES), (S3Response, _S3_WRITES)):
            for name in names:
                method = getattr(cls, name)
                if not getattr(method, "__press_intake_atomic__", False):
                    setattr(cls, name, _locked(method))
        _APPLIED.set()
