"""References from the canonical model back to the CRM records a person came from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from connector.errors import System

__all__ = ["SourceRef", "System"]


class SourceRef(BaseModel):
    """One CRM record: ``salesforce/Lead/00Q...`` or ``hubspot/contacts/1234``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    system: System
    object_type: str = Field(min_length=1, max_length=80)
    record_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")

    def __str__(self) -> str:
        return f"{self.system.value}/{self.object_type}/{self.record_id}"

    @classmethod
    def parse(cls, text: str) -> SourceRef:
        """The ref ``str(ref)`` printed (``ValueError`` for anything else)."""
        system, _, rest = text.partition("/")
        object_type, _, record_id = rest.partition("/")
        return cls(system=System(system), object_type=object_type, record_id=record_id)
