"""Adapters of the ledger: one module per AWS service."""
