"""Reading the ledger from the CLI: on the embedded AWS (played deployments) or a real account."""
