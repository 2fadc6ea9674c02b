"""The state store's tables, as SQLAlchemy Core ``Table`` objects.

This module describes the schema the code expects; the alembic migrations in
``connector/state/migrations`` are the only thing that creates or changes it, and a test keeps
the two in agreement.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    false,
    text,
)

from connector.state._types import UtcDateTime

__all__ = [
    "VERSION_TABLE",
    "activities",
    "cursors",
    "dead_letters",
    "dirty_people",
    "field_provenance",
    "gone_records",
    "identity_issues",
    "links",
    "metadata",
    "observations",
    "people",
    "run_locks",
    "runs",
    "stage_transitions",
    "store_keys",
    "write_intents",
]

VERSION_TABLE = "crmsync_schema_version"
"""Alembic's version table; named for crmsync so a shared PostgreSQL database stays tidy."""

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

people = Table(
    "people",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("email", String(320), nullable=True, index=True),
    Column("data", JSON, nullable=False),
    Column("stage", String(20), nullable=False),
    Column("score", Float, nullable=True),
    Column("rules_version", String(64), nullable=False),
    Column("merged_into", String(64), ForeignKey("people.id"), nullable=True, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # Revision 0004: every record of the person is gone; the row keeps the id, nothing else.
    Column("tombstoned_at", UtcDateTime, nullable=True),
)

links = Table(
    "links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("system", String(20), nullable=False),
    Column("object_type", String(80), nullable=False),
    Column("record_id", String(64), nullable=False),
    Column("person_id", String(64), ForeignKey("people.id"), nullable=False, index=True),
    Column("active", Boolean, nullable=False),
    Column("valid_from", UtcDateTime, nullable=False),
    Column("valid_to", UtcDateTime, nullable=True),
    Column("reason", String(20), nullable=False),
    Index("ix_links_record", "system", "object_type", "record_id"),
    # At most one active link per CRM record; closed links are history.
    Index(
        "uq_links_active_record",
        "system",
        "object_type",
        "record_id",
        unique=True,
        sqlite_where=text("active"),
        postgresql_where=text("active"),
    ),
)

cursors = Table(
    "cursors",
    metadata,
    Column("stream", String(120), primary_key=True),
    Column("watermark", UtcDateTime, nullable=False),
    Column("tie_break", String(64), nullable=True),
    Column("run_started_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

field_provenance = Table(
    "field_provenance",
    metadata,
    Column("person_id", String(64), ForeignKey("people.id"), primary_key=True),
    Column("field", String(120), primary_key=True),
    Column("system", String(20), primary_key=True),
    Column("seen_value", JSON, nullable=True),
    Column("seen_modified_at", UtcDateTime, nullable=True),
    Column("written_value", JSON, nullable=True),
    Column("written_at", UtcDateTime, nullable=True),
    Column("written_run_id", String(64), nullable=True),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("job", String(120), nullable=False, index=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("outcome", String(40), nullable=True),
    Column("counts", JSON, nullable=False),
    Column("api_calls", JSON, nullable=False),
    Column("report", JSON, nullable=False),
)

stage_transitions = Table(
    "stage_transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", String(64), ForeignKey("people.id"), nullable=False, index=True),
    Column("from_stage", String(20), nullable=True),
    Column("to_stage", String(20), nullable=False),
    Column("rules_version", String(64), nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("run_id", String(64), ForeignKey("runs.id"), nullable=True, index=True),
    Column("at", UtcDateTime, nullable=False),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("system", String(20), nullable=False),
    Column("object_type", String(80), nullable=False),
    Column("record_id", String(64), nullable=False),
    # sha256 of the sorted field names: the uniqueness key for "this record, these fields".
    Column("field_key", String(64), nullable=False),
    Column("fields", JSON, nullable=False),
    Column("person_id", String(64), ForeignKey("people.id"), nullable=True, index=True),
    Column("payload", JSON, nullable=False),
    Column("error_class", String(120), nullable=False),
    Column("code", String(120), nullable=False),
    Column("message", String(2000), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_retry_at", UtcDateTime, nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # Revision 0004: a refusal that cannot change on its own waits for its fingerprint (the
    # mapping and the target's schema) to change instead of a retry time.
    Column("waiting", Boolean, nullable=False, server_default=false()),
    Column("fingerprint", String(64), nullable=True),
    UniqueConstraint("system", "object_type", "record_id", "field_key"),
)

run_locks = Table(
    "run_locks",
    metadata,
    Column("pair", String(120), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("acquired_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

# Revision 0002: the sync engine's buffer. One row per CRM person record: ``record_values`` is
# what the last pull saw, ``merged_values`` what it held when crmsync last merged it (the
# baseline that tells a user's edit from no change). A pulled record whose values differ from
# what is stored marks its person dirty; dirty people are merged, evaluated and written, then
# cleared, so a crash between pull and write loses nothing.
observations = Table(
    "observations",
    metadata,
    Column("system", String(20), primary_key=True),
    Column("object_type", String(80), primary_key=True),
    Column("record_id", String(64), primary_key=True),
    Column("person_id", String(64), ForeignKey("people.id"), nullable=False, index=True),
    Column("modified_at", UtcDateTime, nullable=False),
    Column("record_values", JSON, nullable=False),
    Column("merged_values", JSON, nullable=True),
    Column("deleted", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

dirty_people = Table(
    "dirty_people",
    metadata,
    Column("person_id", String(64), ForeignKey("people.id"), primary_key=True),
    Column("reason", String(40), nullable=False),
    Column("since", UtcDateTime, nullable=False, index=True),
)

# Activity and deals, attached to the CRM person record they were logged against (a converted
# Lead's activity keeps counting for its person through the link history).
activities = Table(
    "activities",
    metadata,
    Column("system", String(20), primary_key=True),
    Column("activity_id", String(64), primary_key=True),
    Column("record_type", String(80), primary_key=True),
    Column("record_id", String(64), primary_key=True),
    Column("category", String(20), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("direction", String(20), nullable=False),
    Column("outcome", String(40), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=True),
    Column("detail", JSON, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_activities_record", "system", "record_type", "record_id"),
)

# Revision 0004: data safety (see the migration's docstring).
gone_records = Table(
    "gone_records",
    metadata,
    Column("system", String(20), primary_key=True),
    Column("object_type", String(80), primary_key=True),
    Column("record_id", String(64), primary_key=True),
    Column("person_id", String(64), ForeignKey("people.id"), nullable=False, index=True),
    Column("how", String(20), nullable=False),
    Column("gone_at", UtcDateTime, nullable=False),  # when the CRM says it went
    Column("seen_at", UtcDateTime, nullable=False),  # when crmsync learned it
    Column("survivor_id", String(64), nullable=True),  # a merge's surviving record
    Column("by_crmsync", Boolean, nullable=False),  # deleted by crmsync (policy: propagate)
)

write_intents = Table(
    "write_intents",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("system", String(20), primary_key=True),
    Column("object_type", String(80), primary_key=True),
    Column("record_id", String(64), primary_key=True),  # for creates: the person id
    Column("kind", String(20), nullable=False),
    Column("person_id", String(64), ForeignKey("people.id"), nullable=False, index=True),
    Column("intended", JSON, nullable=False),  # mapping name -> canonical value sent
    Column("sent_at", UtcDateTime, nullable=False),
)

identity_issues = Table(
    "identity_issues",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("key", String(400), nullable=False, unique=True),
    Column("record", String(200), nullable=False, index=True),
    Column("other", String(200), nullable=True, index=True),
    Column("people", JSON, nullable=False),
    Column("detail", String(500), nullable=False),
    Column("first_seen_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("first_run_id", String(64), nullable=True),
    Column("times_seen", Integer, nullable=False),
    Column("resolved_at", UtcDateTime, nullable=True, index=True),
    Column("resolution", String(40), nullable=True),
    Column("note", String(500), nullable=True),
)

# Revision 0005: secrets the store keeps for itself, one per purpose, made on first use. The
# "plan" key signs plan files (HMAC), so that a plan is applied only as it was made and only
# against the store it was made with. Not personal data; never shown or logged.
store_keys = Table(
    "store_keys",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("secret", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
