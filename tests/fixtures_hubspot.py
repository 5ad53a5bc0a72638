"""Fixtures for the hubspot tests (filled in by that area)."""
