"""Duplicate rules: a create whose e-mail matches a live record is refused ``DUPLICATES_DETECTED``.

Off by default; the fault plan's ``duplicate_rules`` turns them on per object. The emulated
rules stand for the standard ones an org ships with: ``Standard_Lead_Duplicate_Rule`` compares a
new Lead with Leads that are not converted and with Contacts, ``Standard_Contact_Duplicate_Rule``
a new Contact with Contacts. Matching is an exact, case-insensitive e-mail match (the standard
matching rules are fuzzy on name and company too); only creates are checked, upserts that
create included. The rules' action is *Alert*: a request carrying
``Sforce-Duplicate-Rule-Header: allowSave=true`` saves anyway
(https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_duplicaterules.htm).

What a refusal looks like:

* in sObject Collections, the record's ``errors[]`` item is ``{"statusCode":
  "DUPLICATES_DETECTED", "message": ..., "fields": []}``, the example Salesforce prints for a
  failed record (https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-allornone.html);
* a single-record create answers HTTP 400 with ``errorCode`` ``DUPLICATES_DETECTED`` and a
  ``duplicateResut`` object - so spelt, as orgs send it (two captured answers in public code:
  rudderlabs/rudder-server's router tests, and a C# client's comment) - naming the rule, the
  matching rule and the matched records.

The message is the standard rules' alert text, "You're creating a duplicate record. We
recommend you use an existing record instead." (same captures).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from connector.sandbox.salesforce.store import Row, SalesforceStore

__all__ = ["MESSAGE", "DuplicateMatch", "find_duplicates", "request_allows_save"]

MESSAGE: Final = (
    "You're creating a duplicate record. We recommend you use an existing record instead."
)
# The object a rule guards -> the objects it compares with, and each one's matching rule.
_LEAD_RULE: Final = ("Lead", "Standard_Lead_Match_Rule_v1_0")
_CONTACT_RULE: Final = ("Contact", "Standard_Contact_Match_Rule_v1_1")
_COMPARED: Final = {"Lead": (_LEAD_RULE, _CONTACT_RULE), "Contact": (_CONTACT_RULE,)}


@dataclass(frozen=True, slots=True)
class DuplicateMatch:
    """Why a create was refused: the rule and, per compared object, the matched Ids."""

    sobject: str
    matches: tuple[tuple[str, str, tuple[str, ...]], ...]  # (object, matching rule, ids)

    @property
    def rule(self) -> str:
        return f"Standard_{self.sobject}_Duplicate_Rule"

    def result(self, version: str) -> dict[str, Any]:
        """The ``duplicateResut`` object of a REST error."""
        return {
            "allowSave": True,
            "duplicateRule": self.rule,
            "duplicateRuleEntityType": self.sobject,
            "errorMessage": MESSAGE,
            "matchResults": [
                {
                    "entityType": entity,
                    "errors": [],
                    "matchEngine": "ExactMatchEngine",
                    "matchRecords": [
                        {
                            "additionalInformation": [],
                            "fieldDiffs": [],
                            "matchConfidence": 100.0,
                            "record": {
                                "attributes": {
                                    "type": entity,
                                    "url": f"/services/data/v{version}/sobjects/{entity}/{i}",
                                },
                                "Id": i,
                            },
                        }
                        for i in ids
                    ],
                    "rule": rule,
                    "size": len(ids),
                    "success": True,
                }
                for entity, rule, ids in self.matches
            ],
        }


def find_duplicates(
    store: SalesforceStore, sobject: str, values: Row, active: tuple[str, ...]
) -> DuplicateMatch | None:
    """The matches a new ``sobject`` record with ``values`` has under the ``active`` rules."""
    email = values.get("Email")
    if sobject not in active or sobject not in _COMPARED or not isinstance(email, str):
        return None
    wanted = email.casefold()
    found: list[tuple[str, str, tuple[str, ...]]] = []
    with store.lock:
        for entity, rule in _COMPARED[sobject]:
            ids = tuple(
                row["Id"]
                for row in store.table(entity).rows.values()
                if not row["IsDeleted"]
                and not row.get("IsConverted")
                and isinstance(row.get("Email"), str)
                and row["Email"].casefold() == wanted
            )
            if ids:
                found.append((entity, rule, ids))
    return DuplicateMatch(sobject, tuple(found)) if found else None


def request_allows_save(header: str | None) -> bool:
    """``Sforce-Duplicate-Rule-Header: allowSave=true[; ...]``."""
    for part in (header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "allowsave" and value.strip().lower() == "true":
            return True
    return False
