"""Suite-wide fixtures: an isolated working directory and environment for settings tests."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, make_url, text

POSTGRES_ENV = "CRMSYNC_TEST_POSTGRES_URL"


@pytest.fixture(autouse=True)
def _restore_connector_logger() -> Iterator[None]:
    """CLI tests configure the ``connector`` logger as the real CLI does; undo it after each."""
    logger = logging.getLogger("connector")
    saved = (logger.level, list(logger.handlers), logger.propagate)
    yield
    logger.setLevel(saved[0])
    logger.handlers[:] = saved[1]
    logger.propagate = saved[2]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Run in an empty directory with no CRMSYNC_* variables (the suite's own are kept)."""
    for name in list(os.environ):
        if name.startswith("CRMSYNC_") and not name.startswith("CRMSYNC_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _postgres_admin_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"PostgreSQL state tests need {POSTGRES_ENV} (e.g. postgresql+psycopg://...)")
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose connections work in a fresh, empty schema."""
    admin_url = make_url(_postgres_admin_url()).set(drivername="postgresql+psycopg")
    schema = f"crmsync_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        options = quote(f"-csearch_path={schema}")
        yield admin_url.render_as_string(hide_password=False) + (
            f"{'&' if admin_url.query else '?'}options={options}"
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / '.crmsync' / 'state.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def state_url(request: pytest.FixtureRequest) -> str:
    """A URL for an empty database, once per backend."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url
