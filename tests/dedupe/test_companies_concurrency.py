"""Two people merging the same pair of accounts at once, on real PostgreSQL transactions in
threads: one merge happens, the other is refused with a clear message, nothing is half done."""

import pytest
from django.db import connection

from accounts.models import Account, AccountRedirect, Contact
from dedupe.models import MergeRecord
from dedupe.services import AccountMergeRefused, merge_accounts
from tests.concurrency import run_concurrently
from tests.factories import customer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pair(am):
    assert connection.vendor == "postgresql", "race tests need real PostgreSQL transactions"
    acme = customer(am, name="Acme GmbH", domain="acme.example")
    dup = Account.objects.create(name="ACME Inc.", domain="www.acme.example")
    for i in range(20):
        Contact.objects.create(account=dup, email=f"p{i}@acme.example")
        Contact.objects.create(account=acme, email=f"q{i}@acme.example")
    return acme, dup


@pytest.mark.parametrize("opposite", [False, True], ids=["same way", "opposite ways"])
def test_two_merges_of_the_same_pair_at_once_one_wins_the_other_is_told(pair, am_manager, opposite):
    acme, dup = pair
    second = (dup, acme) if opposite else (acme, dup)

    outcomes = run_concurrently(
        lambda: merge_accounts(survivor=acme, merged=dup, chosen={}, by=am_manager),
        lambda: merge_accounts(survivor=second[0], merged=second[1], chosen={}, by=am_manager),
    )

    won = [o for o in outcomes if isinstance(o, MergeRecord)]
    refused = [o for o in outcomes if isinstance(o, AccountMergeRefused)]
    assert len(won) == 1 and len(refused) == 1, outcomes
    assert "already merged into" in str(refused[0])
    record = won[0]
    assert MergeRecord.objects.count() == 1
    (survivor,) = Account.objects.all()
    assert survivor.pk == record.survivor_id
    assert Contact.objects.filter(account=survivor).count() == 40
    assert AccountRedirect.objects.get().old_id == record.merged_id
