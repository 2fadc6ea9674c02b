"""Accounts behind every Contact, relationship queries, and describe answers with the full set
of documented keys, through simple-salesforce."""

from __future__ import annotations

from collections import Counter

from tests.sandbox.salesforce.conftest import SalesforceApi, Served

# DescribeFieldResult keys as a real REST describe carries them (see describe.py).
FIELD_KEYS = frozenset(
    {
        "aggregatable",
        "aiPredictionField",
        "autoNumber",
        "byteLength",
        "calculated",
        "calculatedFormula",
        "cascadeDelete",
        "caseSensitive",
        "compoundFieldName",
        "controllerName",
        "createable",
        "custom",
        "defaultValue",
        "defaultValueFormula",
        "defaultedOnCreate",
        "dependentPicklist",
        "deprecatedAndHidden",
        "digits",
        "displayLocationInDecimal",
        "encrypted",
        "externalId",
        "extraTypeInfo",
        "filterable",
        "filteredLookupInfo",
        "formulaTreatNullNumberAsZero",
        "groupable",
        "highScaleNumber",
        "htmlFormatted",
        "idLookup",
        "inlineHelpText",
        "label",
        "length",
        "mask",
        "maskType",
        "name",
        "nameField",
        "namePointing",
        "nillable",
        "permissionable",
        "picklistValues",
        "polymorphicForeignKey",
        "precision",
        "queryByDistance",
        "referenceTargetField",
        "referenceTo",
        "relationshipName",
        "relationshipOrder",
        "restrictedDelete",
        "restrictedPicklist",
        "scale",
        "searchPrefilterable",
        "soapType",
        "sortable",
        "type",
        "unique",
        "updateable",
        "writeRequiresMasterRead",
    }
)
ACCOUNT_FIELDS = ("Name", "Industry", "NumberOfEmployees", "AnnualRevenue", "BillingCountry",
                  "Website", "SystemModstamp", "IsDeleted")  # fmt: skip


def test_every_contact_has_an_account_shared_by_its_company(
    sf: SalesforceApi, served: Served
) -> None:
    contacts = sf.query_all("SELECT Id, Email, AccountId, Account.Name FROM Contact")["records"]
    accounts = {
        row["Id"]: row
        for row in sf.query_all(
            f"SELECT Id, {', '.join(ACCOUNT_FIELDS)} FROM Account"  # noqa: S608 - test data
        )["records"]
    }
    companies = {p.email: p.company for p in served.emulator.world.people if p.in_salesforce}
    assert contacts
    for contact in contacts:
        account = accounts[contact["AccountId"]]
        assert contact["Account"]["Name"] == account["Name"]
        assert contact["Account"]["attributes"]["type"] == "Account"
        company = companies[contact["Email"]]
        assert account["Name"] == company.name
        assert account["BillingCountry"] == company.country
        assert account["Website"] == f"https://www.{company.domain}"
    shared = Counter(contact["AccountId"] for contact in contacts)
    assert max(shared.values()) >= 3
    assert len(accounts) == len(shared)  # no Account without a Contact, none duplicated


def test_accounts_are_filterable_by_relationship_and_query_all_sees_deletions(
    sf: SalesforceApi, served: Served
) -> None:
    account = sf.query("SELECT Id, Name FROM Account ORDER BY Name LIMIT 1")["records"][0]
    members = sf.query(
        f"SELECT Id FROM Contact WHERE Account.Name = '{account['Name']}'"  # noqa: S608
    )["records"]
    assert members
    sf.Account.delete(account["Id"])
    soql = f"SELECT Id, IsDeleted FROM Account WHERE Id = '{account['Id']}'"  # noqa: S608
    assert sf.query(soql)["totalSize"] == 0
    assert sf.query_all(soql, include_deleted=True)["records"][0]["IsDeleted"] is True


def test_describe_answers_carry_every_documented_field_key(sf: SalesforceApi) -> None:
    for entry in sf.describe()["sobjects"]:
        described = sf.restful(f"sobjects/{entry['name']}/describe")
        for field in described["fields"]:
            assert set(field) == FIELD_KEYS, (entry["name"], field["name"])
    account = sf.Account.describe()
    fields = {field["name"]: field for field in account["fields"]}
    assert set(ACCOUNT_FIELDS) <= set(fields)
    assert fields["Name"]["nameField"] is True
    assert fields["AnnualRevenue"]["type"] == "currency"
    assert {
        "childSObject": "Contact",
        "field": "AccountId",
        "relationshipName": "Contacts",
    }.items() <= next(
        child for child in account["childRelationships"] if child["childSObject"] == "Contact"
    ).items()
    lead = {field["name"]: field for field in sf.Lead.describe()["fields"]}
    assert lead["FirstName"]["compoundFieldName"] == "Name"
    assert lead["Name"]["extraTypeInfo"] == "personname"
    assert lead["Description"]["extraTypeInfo"] == "plaintextarea"
    assert lead["Status"]["controllerName"] is None
    assert lead["Status"]["dependentPicklist"] is False
