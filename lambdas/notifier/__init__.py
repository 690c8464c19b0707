"""Notifier: deployment events to Slack and email, routed by environment and severity."""
