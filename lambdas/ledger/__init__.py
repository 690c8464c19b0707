"""The record of releases: the ledger of deployments and decisions, and the pipeline metrics over it."""
