from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connector.crm.salesforce import _soql
from connector.errors import FatalApiError

START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, 12, 30, tzinfo=UTC)


def test_people_query_windows_orders_and_selects_the_conversion_facts() -> None:
    soql = _soql.people_query("Lead", ["Status", "Lead_Score__c"], START, END)
    assert soql.startswith("SELECT Id, SystemModstamp, IsDeleted, Email, IsConverted, ")
    assert "ConvertedContactId" in soql
    assert soql.count("Status") == 1
    assert "SystemModstamp >= 2026-10-01T00:00:00+00:00" in soql
    assert "SystemModstamp < 2026-11-01T12:30:00+00:00" in soql
    assert soql.endswith("ORDER BY SystemModstamp, Id")


def test_values_are_quoted_by_format_soql() -> None:
    hostile = "00Q' OR Id != '"
    soql = _soql.activity_query("Task", [hostile], None, END)
    assert "WhoId IN ('00Q\\' OR Id != \\'')" in soql


@pytest.mark.parametrize("name", ["Status, (SELECT Id FROM Tasks)", "x'--", "", "A.B.C"])
def test_field_names_are_checked(name: str) -> None:
    with pytest.raises(FatalApiError, match="not a field name"):
        _soql.people_query("Contact", [name], None, END)


def test_count_query_has_no_order() -> None:
    assert _soql.count_query("Contact", None, END) == (
        "SELECT COUNT() FROM Contact WHERE SystemModstamp < 2026-11-01T12:30:00+00:00"
    )
