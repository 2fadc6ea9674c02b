"""Alembic migrations for the state store, run programmatically by ``StateStore.open``."""
