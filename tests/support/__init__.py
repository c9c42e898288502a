"""Shared helpers for penstock's test suite."""
