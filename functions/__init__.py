"""Everything that runs inside AWS Lambda: one package shared by all functions.

Layout: ``domain`` is pure (no boto3: models, the state machine, rules, the services and the
ports they need), ``adapters`` wrap one AWS service each and take their boto3 client as a
parameter, ``api`` is the HTTP surface of the API function, and ``handlers`` holds one module per
Lambda function: its handler and its wiring. ``observability``, ``settings`` and ``cold_start``
are shared by the function modules.
"""
