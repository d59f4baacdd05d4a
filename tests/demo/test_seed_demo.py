import re
from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from leads.models import Campaign, Lead, WebForm
from team.models import BusinessCalendar, Role, Team, User

# A Monday afternoon in Berlin: how many of the day's story has happened yet depends on the
# hour (the demo's events up to now), so the counts below hold at this moment, not any other.
MONDAY_AFTERNOON = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


@pytest.mark.django_db
@time_machine.travel(MONDAY_AFTERNOON, tick=False)
def test_seed_demo_builds_the_cast_and_is_idempotent():
    from accounts.models import Opportunity
    from sdr.models import Cadence

    out = StringIO()
    call_command("seed_demo", leads=60, stdout=out)
    counts = (User.objects.count(), Team.objects.count(), Campaign.objects.count(), Lead.objects.count())
    pipeline = set(Opportunity.objects.values_list("status", flat=True))
    opportunities = Opportunity.objects.count()
    call_command("seed_demo", leads=60, verbosity=0)

    assert Opportunity.objects.count() == opportunities
    assert pipeline == set(Opportunity.Status.values)  # something in every state to look at
    assert Cadence.objects.filter(steps__isnull=False).distinct().count() == 4  # one a nurture track

    assert (
        User.objects.count(),
        Team.objects.count(),
        Campaign.objects.count(),
        Lead.objects.count(),
    ) == counts
    # the leads, the pipeline deals' leads, the target accounts' prospects, a customer's expansion
    # lead, and marketing's Salesforce import
    assert counts[3] == 60 + 40 + 8 + 1 + 20
    # Every role has a demo login, but the integration role: a service account, not a person.
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values) - {Role.INTEGRATION}
    assert set(BusinessCalendar.objects.values_list("timezone", flat=True)) == {
        "Europe/Berlin",
        "America/New_York",
    }
    assert Campaign.objects.filter(cost__gt=0).exists() and WebForm.objects.exists()
    assert Lead.objects.filter(activities__isnull=False).distinct().count() == 109
    assert Lead.objects.filter(status=Lead.Status.MQL).exists()


@pytest.mark.django_db
def test_seed_demo_gives_the_account_managers_renewals_in_every_window():
    from accounts.models import Opportunity
    from renewals.models import Contract
    from work.models import WorkItem

    call_command("seed_demo", leads=20, verbosity=0)
    contracts = Contract.objects.count()
    call_command("seed_demo", leads=20, verbosity=0)

    assert Contract.objects.count() == contracts
    active = Contract.objects.active()
    # Every won deal made a contract, the customers' renewals of a year ago made theirs, and
    # so did the recent renewals, expansions and downsizes (3 outcomes for each of 2 AMs).
    assert (
        active.filter(source=Contract.Source.WON).count()
        == Opportunity.objects.filter(
            kind=Opportunity.Kind.NEW_BUSINESS, status=Opportunity.Status.WON
        ).count()
    )
    assert Contract.objects.filter(renewed_from__isnull=False).count() == 10 + 6
    assert set(active.values_list("account__account_manager__username", flat=True)) == {"casey", "riley"}
    open_kinds = set(WorkItem.objects.open().values_list("kind", flat=True))
    assert {"renewal_start", "renewal_reminder", "renewal_due", "expansion_lead"} <= open_kinds
    expansion = WorkItem.objects.get(kind="expansion_lead")
    assert expansion.owner.role == "am" and expansion.subject.email == "ethan.clark@brightpath.example"


@pytest.mark.django_db
def test_seed_demo_ends_with_where_to_log_in_and_prints_no_emails(capsys):
    out = StringIO()
    call_command("seed_demo", leads=10, stdout=out)
    lines = out.getvalue().splitlines()

    assert capsys.readouterr().out == ""  # the renewal reminders and escalations were not printed
    assert len(lines) <= 12
    assert lines[0].startswith("Demo data ready: 10 new leads")
    assert "Open http://127.0.0.1:8000/login/ and sign in as (password refinery-demo):" in lines
    logins = dict(
        reversed(re.match(r"^  (\S.*?)\s{2,}(\S.*)$", line).groups())
        for line in lines
        if line.startswith("  ")
    )
    assert logins == {
        "Manager (admin)": "maria",
        "Inbound SDR": "sam, lena, diego, priya",
        "Outbound SDR": "tom",
        "Account executive": "alex, jordan",
        "Account manager": "casey, riley",
        "Marketing / ops (admin)": "mo",
    }
    form = WebForm.objects.get(name="Website demo request")
    assert lines[-1] == f"Public demo web form: http://127.0.0.1:8000/f/{form.key}/"
