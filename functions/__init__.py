"""Everything that runs inside AWS Lambda: one package shared by all functions.

Layout: ``domain`` is pure (no boto3), ``adapters`` wrap one AWS service each and take their
boto3 client as a parameter, ``handlers`` are the thin Lambda entry points.
"""
