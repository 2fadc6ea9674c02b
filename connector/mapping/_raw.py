"""Strict pydantic models of one mapping file, exactly as an admin writes it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StrictStr

from connector.mapping.rules import SyncRule, Transform

__all__ = ["FORMAT_VERSION", "FieldsOnly", "MapsOnly", "RawField", "RawValueMap", "Top"]

FORMAT_VERSION = 1

_STRICT = ConfigDict(extra="forbid", frozen=True)


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class RawSalesforce(BaseModel):
    """The Salesforce field on each object; leave an object out if the field does not exist."""

    model_config = _STRICT
    lead: StrictStr | None = None
    contact: StrictStr | None = None


class RawValues(BaseModel):
    """The value map used for each system when the transforms include ``map_values``."""

    model_config = _STRICT
    salesforce: StrictStr | None = None
    hubspot: StrictStr | None = None


class RawField(BaseModel):
    model_config = _STRICT
    field: StrictStr | None = None
    description: StrictStr = ""
    salesforce: RawSalesforce | None = None
    hubspot: StrictStr | None = None
    sync: SyncRule
    transform: Annotated[list[Transform], BeforeValidator(_listify)] = []
    values: RawValues | None = None
    max_length: Annotated[StrictInt, Field(ge=1)] | None = None


class RawValueMap(BaseModel):
    model_config = _STRICT
    description: StrictStr = ""
    outbound: dict[StrictStr, StrictStr | None]
    inbound: dict[StrictStr, StrictStr | None] = {}


class Top(BaseModel):
    """The file's outline; entries are validated one by one so one bad entry hides no other."""

    model_config = _STRICT
    version: Literal[1]
    fields: dict[StrictStr, Any] = {}
    value_maps: dict[StrictStr, Any] = {}


class FieldsOnly(BaseModel):
    model_config = _STRICT
    fields: dict[StrictStr, RawField]


class MapsOnly(BaseModel):
    model_config = _STRICT
    value_maps: dict[StrictStr, RawValueMap]
