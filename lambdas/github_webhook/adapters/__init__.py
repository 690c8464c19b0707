"""Adapters of the webhook receiver."""
