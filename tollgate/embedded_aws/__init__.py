"""The embedded AWS: moto in server mode on loopback, with Tollgate's extensions and seed data."""

from tollgate.embedded_aws.server import EmbeddedAws

__all__ = ["EmbeddedAws"]
