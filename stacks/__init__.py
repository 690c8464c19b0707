"""Tollgate's CDK app: one stack per LMS environment, composed of constructs."""
