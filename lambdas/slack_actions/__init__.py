"""Slack buttons: Approve / Reject / Promote / Abort clicked on the living message, carried out as the CLI does."""
