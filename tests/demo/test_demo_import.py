"""The demo's Salesforce import: Mo imported 20 leads weeks before the demo's present, each
first seen in Salesforce months before that, with its Salesforce id and the tag
"salesforce-2026"; the lead list's "from import" filter finds them, their pages say where they
came from, and a re-seed adds nothing."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse

from demo.story.imports import FILE_NAME, ROWS, TAG
from insight.models import LeadFact
from leads.models import ImportJob, Lead, LeadImport

pytestmark = pytest.mark.django_db


def test_the_demo_has_mo_s_salesforce_import_weeks_ago(seeded, client):
    now = seeded
    job = ImportJob.objects.get(original_name=FILE_NAME)
    assert job.uploaded_by.username == "mo" and job.state == ImportJob.State.DONE
    assert now - timedelta(days=30) < job.created_at < now - timedelta(days=20)
    assert list(job.tags.values_list("name", flat=True)) == [TAG]

    leads = Lead.objects.filter(import_links__job=job)
    assert leads.count() == ROWS
    for lead in leads:
        assert lead.external_system == "salesforce" and lead.external_id.startswith("00Q")
        # First seen in Salesforce months before the import; captured by the import.
        assert lead.first_seen_at < job.created_at - timedelta(days=55)
        assert abs(lead.captured_at - job.created_at) < timedelta(minutes=5)
        assert TAG in {tag.name for tag in lead.tags.all()}
    # Insight counts them when they were first seen.
    facts = LeadFact.objects.filter(lead__in=leads)
    assert facts.count() == ROWS
    assert all(f.first_seen_at < job.created_at - timedelta(days=55) for f in facts)

    client.login(username="mo", password="refinery-demo")
    body = client.get(reverse("leads:list"), {"import": job.pk}).content.decode()
    assert f"{ROWS} leads" in body
    body = client.get(reverse("leads:list"), {"tag": TAG}).content.decode()
    assert f"{ROWS} leads" in body
    lead = leads.first()
    page = client.get(lead.get_absolute_url()).content.decode()
    assert f"Salesforce {lead.external_id}" in page and "First seen" in page
    assert reverse("leads:import_detail", args=[job.pk]) in page


def test_a_second_seed_imports_nothing_again(seeded):
    links = LeadImport.objects.count()
    call_command("seed_demo", leads=60, verbosity=0)
    assert ImportJob.objects.filter(original_name=FILE_NAME).count() == 1
    assert LeadImport.objects.count() == links
