"""Fixtures for the store tests (filled in by that area)."""
