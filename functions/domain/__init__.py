"""Pure domain layer: models, the state machine, rules, the services and their ports. Never imports boto3."""
