"""The floor the API function is compared with: a minimal Powertools app, one validated route.

``POST /releases`` on an ``APIGatewayRestResolver`` with validation on, its body a small
pydantic model (the three fields every submission has, anything else allowed, so the same event
validates), adding one metric and answering ``202`` with a JSON body as the real route does. No
request checks, no domain: what any Powertools function with one validated route pays per request
(its model's repr kept short, as the API's is: see ``Submission``).

Two entry points, as the API function has: ``lambda_handler`` is what Lambda would call, with the
Powertools Logger and Metrics decorators the API's handler has (same arguments; tracing as
deployed adds nothing to either: no X-Ray SDK, see ``functions/observability.py``); ``resolve``
is the resolver alone, to compare with ``functions.api.app.handle``.

It imports only what such an app imports (Powertools' resolver and pydantic), nothing of
``functions/``, so that the cold benchmark can time its import and first request in a fresh
interpreter.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel, ConfigDict

app = APIGatewayRestResolver(enable_validation=True)
logger = Logger()
metrics = Metrics()


class Submission(BaseModel):
    model_config = ConfigDict(extra="allow")

    category: str
    headline: str
    body: str

    def __repr__(self) -> str:
        # Powertools formats the route's arguments into a debug message even when debug logging is
        # off: the default repr of a 5 KB body would put that cost on the floor (the API's own
        # submission model has a short repr for the same reason).
        return f"Submission(headline={self.headline!r})"


@app.post("/releases")
def submit(release: Annotated[Submission, Body()]) -> Response[dict[str, Any]]:
    release_id = str(uuid.uuid4())
    metrics.add_metric(name="ReleaseSubmitted", unit="Count", value=1)
    return Response(
        status_code=202,
        content_type="application/json",
        body={"id": release_id, "status": "pending_review", "version": 1, "category": release.category},
        headers={"Location": f"/releases/{release_id}"},
    )


def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
