"""One adapter per AWS service. Each takes its boto3 client as a constructor parameter."""
