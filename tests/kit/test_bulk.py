"""kit.bulk: many rows stored in one statement, as bulk_create and bulk_update would store them."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from kit import bulk
from leads.models import ImportJob, Lead, LeadEvent, LeadImport, Tag
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_new_leads_get_their_ids_and_every_value_as_given():
    leads = [
        Lead(
            email="ada@example.com", company="Analytical", annual_revenue=Decimal("1200000.50"), employees=12
        ),
        Lead(email="grace@example.com", source_attributes={"stage": "Lead", "score": "40"}),
    ]

    bulk.insert(Lead, leads, with_ids=True)

    assert all(lead.pk for lead in leads) and leads[0].pk != leads[1].pk
    ada, grace = Lead.objects.get(pk=leads[0].pk), Lead.objects.get(pk=leads[1].pk)
    assert (ada.email, ada.company, ada.annual_revenue, ada.employees) == (
        "ada@example.com",
        "Analytical",
        Decimal("1200000.50"),
        12,
    )
    assert grace.source_attributes == {"stage": "Lead", "score": "40"}
    assert ada.updated_at is not None  # auto_now is stamped
    assert not leads[0]._state.adding


def test_a_taken_email_is_django_s_integrity_error_and_nothing_is_kept():
    LeadFactory(email="taken@example.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert(Lead, [Lead(email="new@example.com"), Lead(email="taken@example.com")], with_ids=True)

    assert not Lead.objects.filter(email="new@example.com").exists()


def test_rows_are_stored_without_instances():
    lead = LeadFactory()
    tag = Tag.objects.create(name="Webinar")

    bulk.insert_rows(
        LeadEvent,
        ("lead_id", "kind", "at", "actor_id", "campaign_id", "via", "from_status", "to_status", "message"),
        [(lead.pk, LeadEvent.Kind.UPDATED, lead.captured_at, None, None, "import", "", "", "Filled")],
    )
    bulk.insert(Lead.tags.through, [Lead.tags.through(lead_id=lead.pk, tag_id=tag.pk)])

    event = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.UPDATED)
    assert (event.message, event.via) == ("Filled", "import")
    assert list(lead.tags.all()) == [tag]


def test_json_rows_are_stored_as_json():
    lead = LeadFactory()
    job = ImportJob.objects.create(uploaded_by=UserFactory(), file="x.csv", original_name="x.csv")

    bulk.insert_rows(
        LeadImport,
        ("job_id", "lead_id", "line", "action", "before"),
        [(job.pk, lead.pk, 2, LeadImport.Action.UPDATED, {"company": ["", "Acme"]})],
    )

    assert LeadImport.objects.get().before == {"company": ["", "Acme"]}


def test_only_the_fields_each_lead_changed_are_written():
    first = LeadFactory(company="", title="", phone="")
    second = LeadFactory(company="Kept Inc", title="", phone="")
    # In memory both carry values the database must not get for the fields they did not change.
    first.company, first.title = "Acme", "CTO"
    second.company, second.phone = "Overwritten?", "+33 1 23 45 67 89"

    bulk.update(Lead, [(first, {"company", "title"}), (second, {"phone"})])

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.company, first.title, first.phone) == ("Acme", "CTO", "")
    assert (second.company, second.title, second.phone) == ("Kept Inc", "", "+33 1 23 45 67 89")


def test_a_deferred_field_is_not_loaded_while_writing():
    lead = LeadFactory(company="")
    loaded = Lead.objects.only("id", "company").get(pk=lead.pk)
    loaded.company = "Acme"

    bulk.update(Lead, [(loaded, {"company"})])

    assert Lead.objects.get(pk=lead.pk).company == "Acme"


def test_an_object_with_the_attributes_is_written_as_an_instance_would_be():
    class Known:  # what an import loads instead of a model instance
        def __init__(self, pk, company, team_id):
            self.pk, self.company, self.team_id = pk, company, team_id

    lead = LeadFactory(company="", title="Kept")

    bulk.update(Lead, [(Known(lead.pk, "Acme", None), {"company", "team"})])

    lead.refresh_from_db()
    assert (lead.company, lead.title, lead.team_id) == ("Acme", "Kept", None)


def test_any_of_finds_the_rows_whose_column_is_one_of_the_values():
    odd = LeadFactory(email='o"dd\\one@example.com')
    plain = LeadFactory(email="plain@example.com")
    LeadFactory(email="other@example.com")

    emails = {'o"dd\\one@example.com', "plain@example.com", "nobody@example.com"}
    assert set(Lead.objects.filter(bulk.AnyOf(F("email"), emails))) == {odd, plain}
    assert list(Lead.objects.filter(bulk.AnyOf(F("id"), [plain.pk]))) == [plain]
    assert not Lead.objects.filter(bulk.AnyOf(F("email"), [])).exists()
