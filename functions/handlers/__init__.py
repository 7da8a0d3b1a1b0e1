"""One module per Lambda function, each named by the template's ``Handler`` (``<module>.lambda_handler``):
the handler (Powertools' decorators plus one call) and the function's wiring (its settings, boto3
clients, adapters and service, built on first use; see ``functions.cold_start``).

- ``api`` - ``ApiFunction``, the submitters' HTTP API (routes in ``functions.api.app``);
- ``authorizer`` - ``AuthorizerFunction``, API key to organisation;
- ``publisher`` - ``PublisherFunction``, the publish queue's consumer;
- ``site_refresh`` - ``SiteRefreshFunction``, the site-refresh queue's consumer (the shared pages' writer);
- ``outbox_sweep`` - ``OutboxSweepFunction``, sends what the outbox still holds.
"""
