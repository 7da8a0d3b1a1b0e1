"""Pure domain layer: models, rules and the intake service. Never imports boto3."""
