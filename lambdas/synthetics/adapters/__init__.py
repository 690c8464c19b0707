"""Adapters of the synthetics function."""
