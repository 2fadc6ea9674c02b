"""Secrets the state store keeps for itself, one per purpose, each made on first use.

A key never leaves the store except to the code that uses it: it is not shown by any command,
logged, or written to a file. Whoever can read the state store can read its keys (and, with
the CRM credentials, write anything anyway); the keys protect what leaves the store, such as
plan files, from everyone else.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from connector.errors import StateError
from connector.state._db import Db, upsert
from connector.state.schema import store_keys

__all__ = ["KeyStore"]

KEY_BYTES = 32  # 256 random bits: as long as HMAC-SHA256's output


class KeyStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    def get(self, name: str) -> bytes | None:
        """The key called ``name``, or ``None`` if this store never made one."""
        with self._db.read() as connection:
            secret = connection.execute(
                select(store_keys.c.secret).where(store_keys.c.name == name)
            ).scalar_one_or_none()
        return None if secret is None else _decode(name, secret)

    def get_or_create(self, name: str) -> bytes:
        """The key called ``name``, made now (random, 256 bits) if there is none yet.

        Two processes making the same key at once agree: the first insert wins and both read
        the row it wrote.
        """
        found = self.get(name)
        if found is not None:
            return found
        with self._db.transaction(), self._db.write() as connection:
            statement = upsert(connection, store_keys).values(
                name=name, secret=secrets.token_hex(KEY_BYTES), created_at=self._db.now()
            )
            connection.execute(statement.on_conflict_do_nothing(index_elements=["name"]))
        made = self.get(name)
        if made is None:
            raise StateError(f"the state store did not keep its {name} key")
        return made


def _decode(name: str, secret: str) -> bytes:
    try:
        key = bytes.fromhex(secret)
    except ValueError:
        key = b""
    if len(key) < KEY_BYTES:
        raise StateError(
            f"the state store's {name} key is damaged; delete its row from store_keys to "
            "make a new one (plans made before then can no longer be applied)"
        )
    return key
