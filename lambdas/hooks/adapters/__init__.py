"""The hooks' adapters: one module per AWS service (or remote API), each behind a port of ``ports.py``."""
