import pytest
from django.core.management import call_command

from leads.models import Campaign, Lead, WebForm
from team.models import BusinessCalendar, Role, Team, User


@pytest.mark.django_db
def test_seed_demo_builds_the_cast_and_is_idempotent():
    from accounts.models import Opportunity
    from sdr.models import Cadence

    call_command("seed_demo", leads=60, verbosity=0)
    counts = (User.objects.count(), Team.objects.count(), Campaign.objects.count(), Lead.objects.count())
    pipeline = set(Opportunity.objects.values_list("status", flat=True))
    opportunities = Opportunity.objects.count()
    call_command("seed_demo", leads=60, verbosity=0)

    assert Opportunity.objects.count() == opportunities
    assert pipeline == set(Opportunity.Status.values)  # something in every state to look at
    assert Cadence.objects.filter(steps__isnull=False).distinct().count() == 2

    assert (
        User.objects.count(),
        Team.objects.count(),
        Campaign.objects.count(),
        Lead.objects.count(),
    ) == counts
    assert counts[3] == 60 + 40 + 8  # the leads, the pipeline deals' leads, the target accounts' prospects
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    assert set(BusinessCalendar.objects.values_list("timezone", flat=True)) == {
        "Europe/Berlin",
        "America/New_York",
    }
    assert Campaign.objects.filter(cost__gt=0).exists() and WebForm.objects.exists()
    assert Lead.objects.filter(activities__isnull=False).distinct().count() == 108
    assert Lead.objects.filter(status=Lead.Status.MQL).exists()
