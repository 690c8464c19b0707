"""Tollgate's local runtime: the ``tollgate`` command, the embedded AWS and local stand-ins.

Never shipped in Lambda assets.
"""
