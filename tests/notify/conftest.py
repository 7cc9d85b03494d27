"""Fixtures for channel tests: an ops database (SQLite and PostgreSQL), a workspace
folder and the field cipher that seals channel secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from storeops.privacy.crypto import FieldCipher, generate_keyring


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(generate_keyring())


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    folder.mkdir()
    return folder
