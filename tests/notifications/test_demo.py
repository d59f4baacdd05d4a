"""The demo's people start with their news: a few unread each, consistent with the story the
seed replayed (their leads, handoffs, renewals), and none of it waiting to be emailed."""

import pytest
from django.core.management import call_command
from django.db.models import Count, Q

from notifications.models import Kind, Notification


@pytest.mark.django_db
def test_the_demo_people_have_a_few_unread_notifications_from_their_story():
    call_command("seed_demo", leads=30, verbosity=0)

    by_person = {
        row["recipient__username"]: row
        for row in Notification.objects.values("recipient__username").annotate(
            total=Count("id"), unread=Count("id", filter=Q(read_at__isnull=True))
        )
    }
    kinds = set(Notification.objects.values_list("kind", flat=True))

    assert {"sam", "lena", "alex", "casey"} <= set(by_person)
    assert all(0 <= row["unread"] <= 5 for row in by_person.values())
    assert any(row["unread"] for row in by_person.values())
    assert {Kind.ASSIGNED, Kind.HANDOFF_ANSWERED, Kind.RENEWAL_OPENED} <= kinds
    assert not Notification.objects.filter(email=Notification.Email.PENDING).exists()
    # Each opens a page of its recipient's story: a lead, an opportunity, a contract, an account.
    assert not Notification.objects.exclude(
        url__regex=r"^/(leads|opportunities|contracts|accounts|queue)/"
    ).exists()
