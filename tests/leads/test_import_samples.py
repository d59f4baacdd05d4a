"""The two sample exports (Salesforce, then HubSpot, with people in both) imported with each
merge policy and imported again. The expected figures are computed here from the files with
the csv module, row by row, as a person checking the import would."""

import csv
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from accounts.models import Contact
from leads import importing
from leads.import_status import resolve_outcome
from leads.models import ImportJob, Lead, LeadEvent, LeadImport
from tests.leads.import_jobs import HUBSPOT, SALESFORCE, run

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@dataclass
class Expected:
    rows: int
    valid: int
    people: dict[str, str]  # normalised email -> the outcome of the person's first row

    def with_outcome(self, outcome: str) -> set[str]:
        return {email for email, found in self.people.items() if found == outcome}


def expected(path, columns: dict[str, str]) -> Expected:
    rows, valid, people = 0, 0, {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for cells in csv.DictReader(handle):
            rows += 1
            raw = {key: cells.get(label, "") for label, key in columns.items()}
            try:
                row = importing.clean_row(raw)
            except importing.RowRefused:
                continue
            valid += 1
            people.setdefault(
                row.email, resolve_outcome({}, row.external_status, cells.get("Lifecycle Stage", ""))
            )
    return Expected(rows, valid, people)


SF = expected(SALESFORCE, importing.SALESFORCE_COLUMNS)
HS = expected(HUBSPOT, importing.HUBSPOT_COLUMNS)


@pytest.mark.parametrize("policy", list(ImportJob.MergePolicy))
def test_both_exports_imported_and_reimported_with_each_policy(marketing, policy):
    salesforce = run(marketing, SALESFORCE, merge_policy=policy)

    assert salesforce.created_count == len(SF.people) == Lead.objects.count()
    assert salesforce.existing_count == SF.valid - len(SF.people)
    assert salesforce.refused_count == SF.rows - SF.valid
    closed = SF.with_outcome("disqualified")
    assert salesforce.disqualified_count == len(closed)
    assert (
        set(
            Lead.objects.filter(
                status=Lead.Status.DISQUALIFIED, status_reason="Salesforce status: Closed - Not Converted"
            ).values_list("email", flat=True)
        )
        == closed
    )
    assert set(
        Lead.objects.filter(status=Lead.Status.MQL).values_list("email", flat=True)
    ) == SF.with_outcome("mql")

    hubspot = run(marketing, HUBSPOT, merge_policy=policy)

    known = set(HS.people) & set(SF.people)
    assert known, "the samples share people"
    assert hubspot.created_count == len(HS.people) - len(known)
    assert hubspot.existing_count == HS.valid - hubspot.created_count
    assert (
        hubspot.updated_count + hubspot.unchanged_count
        == len(known)
        == LeadImport.objects.filter(job=hubspot).exclude(action="created").count()
    )
    customers = HS.with_outcome("customer")
    new_customers = customers - known
    assert set(Lead.objects.filter(status=Lead.Status.WON).values_list("email", flat=True)) >= new_customers
    assert set(
        Contact.objects.filter(account__customer_since__isnull=False).values_list("email", flat=True)
    ) == set(Lead.objects.filter(status=Lead.Status.WON).values_list("email", flat=True))
    assert not Lead.objects.filter(email__in=customers, status__in=["nurture", "recycled"]).exists()
    assert set(Lead.objects.filter(external_system="hubspot").values_list("email", flat=True)) >= (
        set(HS.people) - known
    )
    if policy == ImportJob.MergePolicy.KEEP:
        assert not LeadEvent.objects.filter(kind=LeadEvent.Kind.UPDATED).exists()

    state = sorted(Lead.objects.values_list("pk", "updated_at", "status"))
    events, contacts = LeadEvent.objects.count(), Contact.objects.count()
    for path, first in ((SALESFORCE, salesforce), (HUBSPOT, hubspot)):
        if path is SALESFORCE and policy == ImportJob.MergePolicy.OVERWRITE:
            continue  # HubSpot's values won since; Salesforce's would win back
        again = run(marketing, path, merge_policy=policy)
        assert (again.created_count, again.updated_count) == (0, 0)
        assert again.existing_count == first.created_count + first.existing_count
        assert again.refused_count == first.refused_count
    assert sorted(Lead.objects.values_list("pk", "updated_at", "status")) == state
    assert (LeadEvent.objects.count(), Contact.objects.count()) == (events, contacts)
