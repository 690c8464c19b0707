"""Tollgate's Lambda functions. Everything under this package ships in the function assets."""
