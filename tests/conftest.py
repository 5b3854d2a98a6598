"""Fixtures for tests that run against both kinds of store (see backends.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backends import Backend, backend_of
from ccdata.store.ports import Store


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Where a store lives, embedded or distributed; `backend.open()` opens a store there (again)."""
    with backend_of(request.param, tmp_path) as where:
        yield where


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    opened = backend.open()
    yield opened
    opened.close()
