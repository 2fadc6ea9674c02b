"""Field mappings admins edit in ``mappings/*.yaml``: load, validate offline and live, convert.

The sync engine uses :func:`load_mappings` to get a :class:`MappingSet`, iterates its
:class:`FieldMapping` entries (targets per system/object, sync rule), and converts values with
``FieldMapping.to_salesforce``/``from_salesforce``/``to_hubspot``/``from_hubspot``. Before any
write, :func:`validate_live` checks the mapping against the CRMs' described schema.
"""

from connector.mapping.canonical import CANONICAL_FIELDS, CanonicalField, CanonicalValue, ValueType
from connector.mapping.live import validate_live
from connector.mapping.loader import load_mappings, mapping_files
from connector.mapping.model import FieldMapping, MappingSet, Origin, Target
from connector.mapping.rules import SyncRule, Transform
from connector.mapping.values import UNCHANGED, ConversionError, Unchanged, ValueMap

__all__ = [
    "CANONICAL_FIELDS",
    "UNCHANGED",
    "CanonicalField",
    "CanonicalValue",
    "ConversionError",
    "FieldMapping",
    "MappingSet",
    "Origin",
    "SyncRule",
    "Target",
    "Transform",
    "Unchanged",
    "ValueMap",
    "ValueType",
    "load_mappings",
    "mapping_files",
    "validate_live",
]
