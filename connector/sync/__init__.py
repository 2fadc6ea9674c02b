"""The sync engine: identity, merge and conflict policy, plan and apply, echo suppression."""

from connector.sync.merge import (
    Change,
    FieldMerge,
    Observation,
    Seen,
    is_blank,
    json_value,
    merge_field,
)

__all__ = [
    "Change",
    "FieldMerge",
    "Observation",
    "Seen",
    "is_blank",
    "json_value",
    "merge_field",
]
