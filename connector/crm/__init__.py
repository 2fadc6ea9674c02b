"""CRM adapters behind one typed seam.

The sync engine uses :class:`CrmSource` / :class:`CrmSink` (``connector.crm.types``) and gets
implementations from :mod:`connector.crm.salesforce` and :mod:`connector.crm.hubspot`, or from
:func:`connect` (both, for one run). Vendor SDK types never leave this package.
"""

from connector.crm.budget import HubSpotBudget, RollingWindow, SalesforceBudget, bounded_map
from connector.crm.connect import Adapters, connect
from connector.crm.dispositions import Disposition
from connector.crm.retry import DEFAULT_POLICY, Retrier, RetryPolicy
from connector.crm.types import (
    ActivityRecord,
    CrmSink,
    CrmSource,
    Cursor,
    FieldSchema,
    FieldValue,
    ObjectSchema,
    Page,
    RawRecord,
    UpsertRequest,
    WriteRequest,
    WriteResult,
    WriteStatus,
)

__all__ = [
    "DEFAULT_POLICY",
    "ActivityRecord",
    "Adapters",
    "CrmSink",
    "CrmSource",
    "Cursor",
    "Disposition",
    "FieldSchema",
    "FieldValue",
    "HubSpotBudget",
    "ObjectSchema",
    "Page",
    "RawRecord",
    "Retrier",
    "RetryPolicy",
    "RollingWindow",
    "SalesforceBudget",
    "UpsertRequest",
    "WriteRequest",
    "WriteResult",
    "WriteStatus",
    "bounded_map",
    "connect",
]
