from __future__ import annotations

import pytest

from connector.errors import System
from connector.mapping import SyncRule

SF, HS = System.SALESFORCE, System.HUBSPOT


@pytest.mark.parametrize(
    ("rule", "reads", "writes", "only_blank", "preferred"),
    [
        (SyncRule.TWO_WAY, {SF, HS}, {SF, HS}, set(), None),
        (SyncRule.PREFER_SALESFORCE, {SF, HS}, {SF, HS}, {SF}, SF),
        (SyncRule.PREFER_HUBSPOT, {SF, HS}, {SF, HS}, {HS}, HS),
        (SyncRule.SALESFORCE_ONLY, {SF}, {HS}, set(), SF),
        (SyncRule.HUBSPOT_ONLY, {HS}, {SF}, set(), HS),
        (SyncRule.NONE, set(), set(), set(), None),
    ],
)
def test_each_sync_rule_has_one_meaning(
    rule: SyncRule,
    reads: set[System],
    writes: set[System],
    only_blank: set[System],
    preferred: System | None,
) -> None:
    assert {s for s in System if rule.reads(s)} == reads
    assert {s for s in System if rule.writes(s)} == writes
    assert {s for s in System if rule.writes_only_blank(s)} == only_blank
    assert rule.preferred is preferred
