"""Two people merging the same pair at once, in real PostgreSQL transactions: one merge wins,
the other is told the lead was already merged."""

import pytest

from dedupe.models import MergeRecord
from dedupe.services import MergeRefused, merge_leads
from leads.models import Activity, Lead, LeadRedirect
from leads.services import log_activity
from tests.concurrency import run_concurrently
from tests.factories import LeadFactory


def two_leads():
    a = LeadFactory(email="ada@acme.example", first_name="Ada", last_name="Lovelace")
    b = LeadFactory(email="ada.l@gmail.com", first_name="Ada", last_name="Lovelace")
    log_activity(lead_id=a.pk, kind="visit")
    log_activity(lead_id=b.pk, kind="download")
    return a, b


def assert_one_consistent_merge(outcomes, a, b):
    records = [o for o in outcomes if isinstance(o, MergeRecord)]
    refusals = [o for o in outcomes if isinstance(o, MergeRefused)]
    assert len(records) == 1 and len(refusals) == 1, outcomes
    record = records[0]
    assert "already merged into lead" in str(refusals[0])
    survivor = Lead.objects.get()
    assert survivor.pk == record.survivor_id and {record.survivor_id, record.merged_id} == {a.pk, b.pk}
    assert Activity.objects.filter(lead=survivor).count() == 2
    assert LeadRedirect.objects.get().old_id == record.merged_id
    assert MergeRecord.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_people_merging_the_same_pair_at_once(manager, marketing):
    a, b = two_leads()
    outcomes = run_concurrently(
        lambda: merge_leads(survivor=a.pk, merged=b.pk, chosen={}, by=manager),
        lambda: merge_leads(survivor=a.pk, merged=b.pk, chosen={}, by=marketing),
    )
    assert_one_consistent_merge(outcomes, a, b)


@pytest.mark.django_db(transaction=True)
def test_a_into_b_while_b_into_a(manager, marketing):
    a, b = two_leads()
    outcomes = run_concurrently(
        lambda: merge_leads(survivor=a.pk, merged=b.pk, chosen={"email": "merged"}, by=manager),
        lambda: merge_leads(survivor=b.pk, merged=a.pk, chosen={}, by=marketing),
    )
    assert_one_consistent_merge(outcomes, a, b)
