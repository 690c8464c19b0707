"""Adapters of the canary controller: one module per AWS service."""
