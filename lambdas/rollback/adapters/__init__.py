"""Adapters of the rollback functions: one module per AWS service, ClientError mapped to named errors."""
