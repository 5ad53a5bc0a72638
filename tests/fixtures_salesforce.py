"""Fixtures for the salesforce tests (filled in by that area)."""
