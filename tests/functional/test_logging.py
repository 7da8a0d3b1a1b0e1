"""Logs as CloudWatch gets them: the domain's and the adapters' standard-library loggers come out
as the Powertools Logger's JSON lines, carrying the invocation's correlation id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.conftest import Faults
from tests.helpers import ApiClient, personnel_release


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the Powertools Logger's handler writes (stdout in Lambda), for the test's duration."""
    from functions.observability import logger

    [handler] = logger.handlers
    assert isinstance(handler, logging.StreamHandler)
    written = io.StringIO()
    previous = handler.setStream(written)
    yield written
    handler.setStream(previous)


def _json_lines(written: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in written.getvalue().splitlines() if line.startswith("{")]


def test_a_domain_warning_is_a_powertools_json_line_with_the_request_id(
    api: ApiClient, lambda_clients: dict[str, Any], faults: Faults, log_lines: io.StringIO
) -> None:
    # Given the moderation queue refuses the send (the intake service logs a warning and carries on)
    faults.fail(lambda_clients["sqs"], "SendMessage", times=10)

    # When a release is submitted through the API function
    response = api.post("/releases", personnel_release())

    # Then it is accepted, and the domain's warning is one JSON line of the Powertools Logger
    assert response.status == 202
    request_id = api.last_event["requestContext"]["requestId"]
    message = "moderation enqueue deferred to the outbox sweep"  # functions/domain/intake.py
    warnings = [line for line in _json_lines(log_lines) if line.get("message") == message]
    assert len(warnings) == 1, log_lines.getvalue()
    [warning] = warnings
    assert warning["level"] == "WARNING"
    assert warning["location"].startswith("_enqueue:")  # IntakeService._enqueue
    # carrying the correlation id (API Gateway's request id) and the Lambda context
    assert warning["correlation_id"] == request_id
    assert warning["function_name"] == "ApiFunction"
    assert warning["service"] == "press-intake"
    assert "exception" in warning  # the failed send, for whoever reads it


def test_the_domain_loggers_are_bridged_once_without_duplicates() -> None:
    from functions.observability import PACKAGE, logger

    package = logging.getLogger(PACKAGE)
    # the parent of every domain and adapter logger writes through the Powertools handler, and
    # not also through the root logger's (Lambda's own, which would print every line twice)
    [handler] = logger.handlers
    assert handler in package.handlers
    assert package.propagate is False
    assert logging.getLogger("functions.domain.intake").handlers == []
    assert logging.getLogger("functions.adapters.s3_catalog").propagate is True
