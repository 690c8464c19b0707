"""Deployment lifecycle hooks: synthetic transactions, metric gates and policy gates that always report."""
