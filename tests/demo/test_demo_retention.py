"""The demo's retention says something on day one: over the last 12 months (retention's default
period) each AM has a churned customer with its reason, a downsize, an expansion and a flat
renewal among the terms that ended in the last four months, recorded through the renewals
services while the story was replayed (each account a customer before its term began)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from renewals.models import AccountEvent, Contract
from team.models import User

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 6, 9, 15, tzinfo=UTC)


@pytest.fixture
def seeded():
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", leads=10, verbosity=0)
        yield


def text_of(response) -> str:
    assert response.status_code == 200
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_each_am_has_every_outcome_in_the_last_four_months(seeded):
    today = NOW.date()
    recent = Contract.objects.filter(end_date__gte=today - timedelta(days=124), end_date__lt=today)
    for am in ("casey", "riley"):
        mine = recent.filter(account__account_manager__username=am)
        assert sorted(mine.values_list("outcome", flat=True)) == [
            "churned",
            "downsized",
            "expanded",
            "renewed",
        ]
        churned = mine.get(outcome="churned")
        assert churned.status == "churned" and churned.churn_reason
        for contract in mine.select_related("account"):
            # a customer before the term began, the outcome recorded before today
            became = AccountEvent.objects.get(account=contract.account, kind=AccountEvent.Kind.CUSTOMER)
            assert became.at.date() < contract.start_date
            assert contract.closed_at < NOW
            if contract.outcome != "churned":
                new = contract.renewed_by
                assert new.start_date == contract.end_date + timedelta(days=1)
                assert {
                    "renewed": new.annual_value == contract.annual_value,
                    "expanded": new.annual_value > contract.annual_value,
                    "downsized": new.annual_value < contract.annual_value,
                }[contract.outcome]


@pytest.mark.parametrize("am", ["casey", "riley"])
def test_the_ams_retention_page_shows_churn_reasons_and_recent_months(seeded, client, am):
    today = NOW.date()
    user = User.objects.get(username=am)
    churned = Contract.objects.get(
        account__account_manager=user, outcome="churned", end_date__gte=today - timedelta(days=124)
    )
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        text = text_of(client.get("/insight/retention/"))
        overview = text_of(client.get("/insight/"))
    assert "Last 12 months" in text
    assert f"{churned.churn_reason} 1 €{churned.annual_value:,.2f}" in text
    assert f"{churned.end_date:%b %Y}" in text
    # The overview's card over the same 12 months: a rate, not a dash.
    assert re.search(r"Net revenue retention \d+\.\d% gross \d+\.\d%", overview)


def test_the_manager_reads_both_ams_churn_in_the_api(seeded, client):
    client.force_login(User.objects.get(username="maria"))
    with time_machine.travel(NOW, tick=False):
        body = client.get("/api/v1/insight/retention/").json()
    reasons = {r["reason"]: r["count"] for r in body["churn_reasons"]}
    expected = dict.fromkeys(
        Contract.objects.filter(outcome="churned").values_list("churn_reason", flat=True), 0
    )
    for reason in Contract.objects.filter(outcome="churned").values_list("churn_reason", flat=True):
        expected[reason] += 1
    assert reasons == expected and len(expected) == 2
    assert body["total"]["churned_count"] == 2
    assert {row["label"].split()[0] for row in body["by_am"]} >= {"Casey", "Riley"}
