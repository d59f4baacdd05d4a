"""Leads an import says are customers become contacts at customer accounts with an AM, in the
import's transaction; never leads in a marketing flow."""

from datetime import UTC, date, datetime

import pytest

from accounts.models import Account, Contact
from accounts.services import log_work
from leads.models import Lead
from leads.services import undo_import
from notifications.models import Notification
from renewals.models import AccountEvent, ImportedRecord
from tests.factories import contract, customer
from tests.leads.import_jobs import SF_HEADER, csv_bytes, run, sf_row

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
WON = "Closed - Converted"


def test_imported_customers_become_contacts_at_customer_accounts_with_an_am(marketing, am, am_rule):
    job = run(
        marketing,
        csv_bytes(
            SF_HEADER,
            sf_row(lead_id="1", email="ana@acme.example", company="Acme", status=WON, country="Germany"),
            sf_row(lead_id="2", email="bo@acme.example", company="Acme Inc", status=WON),
            sf_row(lead_id="3", email="cy@gmail.com", company="Cyan Ltd", status=WON),
            sf_row(lead_id="4", email="dee@open.example", status="Open - Not Contacted"),
        ),
    )

    assert job.customer_count == 3
    acme = Account.objects.get(domain="acme.example")  # one account for the domain
    assert acme.name == "Acme" and acme.country == "DE"
    assert acme.is_customer and acme.customer_since == NOW and acme.account_manager == am
    assert set(acme.contacts.values_list("email", flat=True)) == {"ana@acme.example", "bo@acme.example"}
    cyan = Account.objects.get(name="Cyan Ltd")  # a free mail address: the account by its company
    assert cyan.domain == "" and cyan.account_manager == am
    assert Contact.objects.get(email="cy@gmail.com").lead == Lead.objects.get(email="cy@gmail.com")
    assert not Contact.objects.filter(email="dee@open.example").exists()
    assert (
        not Lead.objects.filter(email__in=["ana@acme.example", "cy@gmail.com"]).exclude(status="won").exists()
    )
    assert AccountEvent.objects.filter(kind=AccountEvent.Kind.CUSTOMER).count() == 2
    assert Notification.objects.filter(recipient=am).count() == 2


def test_an_existing_account_and_contact_are_found_not_doubled(marketing, am, am_rule):
    acme = customer(am, name="Acme GmbH", domain="acme.example")
    named = Account.objects.create(name="Cyan Ltd")
    Contact.objects.create(account=acme, email="ana@acme.example", first_name="Ana")

    run(
        marketing,
        csv_bytes(
            SF_HEADER,
            sf_row(lead_id="1", email="ana@acme.example", status=WON),
            sf_row(lead_id="3", email="cy@gmail.com", company="cyan ltd", status=WON),
        ),
    )

    assert Account.objects.count() == 2 and Contact.objects.count() == 2
    assert Contact.objects.get(email="ana@acme.example").lead.email == "ana@acme.example"
    named.refresh_from_db()
    assert named.is_customer and named.contacts.get().email == "cy@gmail.com"
    acme.refresh_from_db()
    assert acme.account_manager == am  # kept its AM
    assert not AccountEvent.objects.filter(account=acme).exists()  # already a customer


def test_a_batch_of_customers_costs_a_fixed_number_of_queries(
    marketing, am, am_rule, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def customers(n, offset):
        rows = [
            sf_row(lead_id=str(i), email=f"p{i}@c{i}.example", company=f"C{i}", status=WON)
            for i in range(offset, offset + n)
        ]
        with CaptureQueriesContext(connection) as queries:
            run(marketing, csv_bytes(SF_HEADER, *rows))
        return len(queries)

    customers(1, 500)  # the process reads the learned model (none) once, as any first writer does
    assert customers(2, 0) == customers(20, 100)


# --- undoing the import ----------------------------------------------------------------------


@pytest.fixture
def customers_imported(marketing, am, am_rule, frozen):
    """An import of three customers (two at a new Acme account, one at an existing named
    account) and a prospect, an hour ago."""
    named = Account.objects.create(name="Cyan Ltd")
    job = run(
        marketing,
        csv_bytes(
            SF_HEADER,
            sf_row(lead_id="1", email="ana@acme.example", company="Acme", status=WON),
            sf_row(lead_id="2", email="bo@acme.example", company="Acme", status=WON),
            sf_row(lead_id="3", email="cy@gmail.com", company="Cyan Ltd", status=WON),
            sf_row(lead_id="4", email="dee@open.example", status="Open - Not Contacted"),
        ),
    )
    frozen.shift(3600)
    return job, named


def test_undo_removes_the_accounts_and_contacts_the_import_made_and_nothing_else(
    customers_imported, marketing
):
    job, named = customers_imported
    before = Contact.objects.create(account=named, email="old@cyan.example")  # not the import's
    done = undo_import(job=job, by=marketing)

    assert done.removed == 4
    assert not Account.objects.filter(domain="acme.example").exists()
    assert not Contact.objects.filter(
        email__in=["ana@acme.example", "bo@acme.example", "cy@gmail.com"]
    ).exists()
    assert set(Account.objects.values_list("name", flat=True)) == {"Cyan Ltd"}  # it existed before
    assert Contact.objects.filter(pk=before.pk).exists()
    assert not ImportedRecord.objects.exists()


def test_a_contact_someone_worked_with_stays_and_so_does_its_account(customers_imported, marketing, am):
    job, _ = customers_imported
    ana = Contact.objects.get(email="ana@acme.example")
    log_work(by=am, kind="call", note="Kick-off", account_id=ana.account_id, contact_id=ana.pk)

    undo_import(job=job, by=marketing)

    ana.refresh_from_db()
    assert ana.lead is None  # the lead the import created went; the person at the customer stays
    assert Account.objects.filter(domain="acme.example").exists()
    assert not Contact.objects.filter(email="bo@acme.example").exists()


def test_an_account_someone_worked_on_since_stays_without_the_contacts(
    customers_imported, marketing, am, frozen
):
    job, _ = customers_imported
    acme = Account.objects.get(domain="acme.example")
    contract(acme, end=date(2027, 3, 1), start=date(2026, 3, 1))

    undo_import(job=job, by=marketing)

    assert Account.objects.filter(pk=acme.pk).exists() and not acme.contacts.exists()


def test_a_dry_run_records_nothing_to_undo(marketing, am, am_rule):
    run(marketing, csv_bytes(SF_HEADER, sf_row(email="ana@acme.example", status=WON)), dry_run=True)

    assert not ImportedRecord.objects.exists() and not Account.objects.exists()
