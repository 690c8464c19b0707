"""GitHub workflow_run webhooks -> build records in the ledger (Lambda function URL, HMAC-verified)."""
