"""Fixtures of the command-line tests."""
from __future__ import annotations

import os

import pytest
from cryptography.fernet import Fernet


@pytest.fixture()
def env(tmp_path):
    """The environment of a user's shell: a data folder of their own."""
    return {**os.environ, "JOURNEY_DATA_DIR": str(tmp_path / "var"),
            "JOURNEY_SECRET_KEY": Fernet.generate_key().decode()}
