"""Leads an import says are customers become contacts at customer accounts with an AM, in the
import's transaction; never leads in a marketing flow."""

from datetime import UTC, datetime

import pytest

from accounts.models import Account, Contact
from leads.models import Lead
from notifications.models import Notification
from renewals.models import AccountEvent
from tests.factories import customer
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

    assert customers(2, 0) == customers(20, 100)
