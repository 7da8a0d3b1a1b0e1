"""What runs outside Lambda to stand the system up: the template reader, resource bootstrap,
and (later) the embedded local stack. Never imported by Lambda code."""
