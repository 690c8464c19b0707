"""Rollback: put the LMS's last good version back when its alarms fire, or when an operator asks."""
