"""What runs outside Lambda to stand the system up: the template reader, resource bootstrap,
the API Gateway emulation (``infra.apigateway``) and the embedded local stack (``infra.local``).
Never imported by Lambda code."""
