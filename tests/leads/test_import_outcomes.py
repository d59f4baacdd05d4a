"""What an imported row becomes from its source status and stage: nurture, a sales-ready lead
routed as any MQL, an open opportunity for an SDR to review, a disqualified lead with the source
status as reason, a customer (never in a marketing flow); and the import's owner, team and tags."""

from datetime import UTC, datetime

import pytest
from django.db import transaction

from leads import importing
from leads.models import ImportJob, Lead, LeadEvent, LeadImport, Tag
from leads.services import ScoringContext, capture_lead
from leads.services.import_write import REVIEW_TAG, Seen, SourceRow, write_batch
from notifications.models import Notification
from tests.leads.import_jobs import SF_HEADER, csv_bytes, queue, run, sf_row
from work.models import WorkItem

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

ROWS = [
    sf_row(lead_id="1", email="open@x.example", status="Open - Not Contacted"),
    sf_row(lead_id="2", email="working@x.example", status="Working - Contacted"),
    sf_row(lead_id="3", email="closed@x.example", status="Closed - Not Converted"),
    sf_row(lead_id="4", email="converted@x.example", status="Closed - Converted"),
]
STATUSES = csv_bytes(SF_HEADER, *ROWS)


def statuses() -> dict[str, str]:
    return dict(Lead.objects.values_list("email", "status"))


def test_each_source_status_becomes_its_outcome(marketing, catch_all_rule, inbound_sdr):
    inbound_sdr.team = catch_all_rule.team
    inbound_sdr.save()
    job = run(marketing, STATUSES)

    assert statuses() == {
        "open@x.example": Lead.Status.NURTURE,
        "working@x.example": Lead.Status.MQL,
        "closed@x.example": Lead.Status.DISQUALIFIED,
        "converted@x.example": Lead.Status.WON,
    }
    closed = Lead.objects.get(email="closed@x.example")
    assert closed.status_reason == "Salesforce status: Closed - Not Converted"
    working = Lead.objects.get(email="working@x.example")
    # routed as any MQL: an SDR of the rule's team, a first-touch timer
    assert working.mql_at == NOW and working.owner == inbound_sdr and working.team == catch_all_rule.team
    assert working.work_items.get().kind == WorkItem.Kind.FIRST_TOUCH
    assert (job.created_count, job.customer_count, job.disqualified_count, job.review_count) == (4, 1, 1, 0)
    assert Lead.objects.get(email="open@x.example").owner is None


def test_the_import_status_map_overrides_the_defaults(marketing):
    run(marketing, STATUSES, status_map={"status:Open - Not Contacted": "disqualified"})

    assert Lead.objects.get(email="open@x.example").status == Lead.Status.DISQUALIFIED


def test_an_open_opportunity_is_flagged_for_an_sdr_to_review(marketing, catch_all_rule):
    hubspot = csv_bytes(
        ["Record ID", "Email", "Lead Status", "Create Date"], ["9", "deal@x.example", "OPEN_DEAL", ""]
    )
    job = run(marketing, hubspot)

    lead = Lead.objects.get()
    assert lead.status == Lead.Status.MQL and lead.team == catch_all_rule.team  # not in nurture
    assert list(lead.tags.values_list("name", flat=True)) == [REVIEW_TAG]
    assert job.review_count == 1


def test_a_customer_stage_wins_over_the_status_and_the_stage_and_score_are_kept(marketing):
    job = queue(marketing, b"email\n")
    raw = {"email": "cust@x.example", "external_id": "77", "external_status": "NEW"}
    row = SourceRow(line=2, row=importing.clean_row(raw), stage="customer", score="81", warnings=[])
    with transaction.atomic():
        result = write_batch(job, [row], ScoringContext.load(), seen=Seen(), system="hubspot", tag_ids=[])

    lead = Lead.objects.get()
    assert lead.status == Lead.Status.WON and result.customers == 1
    assert lead.source_attributes == {"stage": "customer", "score": "81", "status": "NEW"}
    assert (lead.external_system, lead.external_id) == ("hubspot", "77")


def test_a_known_lead_in_nurture_takes_the_files_end_but_a_worked_lead_does_not(marketing, inbound_sdr):
    nurtured = capture_lead(email="closed@x.example", details={}, via="web").lead
    worked = capture_lead(email="converted@x.example", details={}, via="web").lead
    Lead.objects.filter(pk=worked.pk).update(status=Lead.Status.WORKING, owner=inbound_sdr)

    job = run(marketing, STATUSES)

    nurtured.refresh_from_db()
    worked.refresh_from_db()
    assert nurtured.status == Lead.Status.DISQUALIFIED
    assert nurtured.status_reason == "Salesforce status: Closed - Not Converted"
    assert nurtured.events.filter(kind=LeadEvent.Kind.STATUS, to_status="disqualified").count() == 1
    assert worked.status == Lead.Status.WORKING and worked.owner == inbound_sdr
    assert LeadImport.objects.get(job=job, lead=nurtured).before["status"] == ["nurture", "disqualified"]
    assert job.disqualified_count == 1 and job.customer_count == 0


def test_the_imports_owner_gets_its_sales_ready_leads_with_a_timer_and_its_tags(marketing, inbound_sdr):
    tag = Tag.objects.create(name="Migration 2026")
    job = run(marketing, STATUSES, owner=inbound_sdr, tags=[tag])

    working = Lead.objects.get(email="working@x.example")
    assert working.owner == inbound_sdr and working.team_id == inbound_sdr.team_id
    item = working.work_items.get()
    assert item.kind == WorkItem.Kind.FIRST_TOUCH and item.owner == inbound_sdr and item.due_at > NOW
    assert working.events.filter(kind=LeadEvent.Kind.ROUTED, message__contains=f"import #{job.pk}").exists()
    [news] = Notification.objects.filter(recipient=inbound_sdr)
    assert news.text == f"{working} was assigned to you by import #{job.pk}"
    # the leads that are not sales-ready stay marketing's
    assert not Lead.objects.exclude(pk=working.pk).filter(owner__isnull=False).exists()
    assert set(Lead.objects.filter(tags=tag).values_list("email", flat=True)) == set(statuses())


def test_a_dry_run_reports_what_an_import_would_do_and_writes_nothing(
    marketing, catch_all_rule, am_rule, monkeypatch
):
    from accounts.models import Account, Contact
    from leads.models import ImportRowError
    from leads.services import imports

    monkeypatch.setattr(imports, "IMPORT_BATCH", 2)  # the repeat below is in another batch
    capture_lead(email="closed@x.example", details={}, via="web")
    # a known person, a person twice (the second time in the next batch), a refused row
    content = csv_bytes(SF_HEADER, *ROWS, sf_row(lead_id="5", email="open@x.example"), sf_row(email="bad"))
    tables = (Lead, LeadEvent, LeadImport, Lead.tags.through, WorkItem, Account, Contact)
    before = [model.objects.count() for model in tables]

    dry = run(marketing, content, dry_run=True)

    assert [model.objects.count() for model in tables] == before
    assert Lead.objects.get().status == Lead.Status.NURTURE
    assert dry.state == ImportJob.State.DONE and ImportRowError.objects.filter(job=dry).count() == 1
    real = run(marketing, content)
    counts = ("created_count", "existing_count", "refused_count", "updated_count", "unchanged_count")
    counts += ("customer_count", "disqualified_count", "review_count", "warning_count")
    assert [getattr(dry, name) for name in counts] == [getattr(real, name) for name in counts]
    assert (dry.created_count, dry.existing_count, dry.refused_count) == (3, 2, 1)
