"""The manager's early losses: opportunities lost within 14 days of acceptance in the teams they
manage (by the AE's team or the SDR's), counted by SDR, beside the handoffs AEs rejected by
reason and the acceptance rate; managers only, at a fixed query count."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Stage
from accounts.services import move_stage, reject_handoff
from team.models import Role
from tests.factories import CampaignFactory, TeamFactory, UserFactory, accepted, handed_off

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
URL = "/opportunities/early-losses/"


def lost(sdr, ae, *, after_days: int, reason: str = "Price", **lead_fields):
    opportunity = accepted(sdr, ae, now=NOW, **lead_fields)
    return move_stage(
        opportunity_id=opportunity.pk,
        by=ae,
        stage_id=Stage.objects.get(name="Lost").pk,
        lost_reason=reason,
        now=NOW + timedelta(days=after_days),
    )


def rejected(sdr, ae, reason: str):
    opportunity = handed_off(sdr, ae, now=NOW)
    return reject_handoff(opportunity_id=opportunity.pk, by=ae, reason=reason, note="See notes", now=NOW)


@pytest.fixture
def far_team(db):
    """An SDR and an AE of teams neither Sol nor Maria manages."""
    sdr = UserFactory(username="zed", role=Role.INBOUND_SDR, team=TeamFactory(name="Inbound US"))
    ae = UserFactory(username="bo", role=Role.AE, team=TeamFactory(name="AEs West", kind="sales"))
    return sdr, ae


@pytest.mark.django_db
def test_early_losses_are_listed_newest_first_with_who_when_why_and_where_from(
    client_for, inbound_sdr, other_sdr, ae, sales_manager, far_team
):
    webinar = CampaignFactory(name="Webinar")
    first = lost(inbound_sdr, ae, after_days=3, reason="Chose a competitor", campaign=webinar)
    second = lost(other_sdr, ae, after_days=10)
    late = lost(inbound_sdr, ae, after_days=30)  # not early
    far = lost(*far_team, after_days=1)

    response = client_for(sales_manager).get(URL, {"period": "all"})

    assert response.status_code == 200
    body = response.content.decode()
    rows = re.findall(r'<tr id="loss-(\d+)">', body)
    assert rows == [str(second.pk), str(first.pk)]
    assert late.name not in body and far.name not in body
    row = re.search(rf'<tr id="loss-{first.pk}">.*?</tr>', body, re.S).group(0)
    assert str(inbound_sdr) in row and str(ae) in row and "Chose a competitor" in row and "Webinar" in row
    assert re.search(r'<td class="num">3</td>', row)  # days from acceptance to the loss


@pytest.mark.django_db
def test_early_losses_are_counted_by_sdr(client_for, inbound_sdr, other_sdr, ae, manager):
    for _ in range(2):
        lost(inbound_sdr, ae, after_days=2)
    lost(other_sdr, ae, after_days=5)

    body = client_for(manager).get(URL, {"period": "all"}).content.decode()

    by_sdr = re.search(r'id="by-sdr".*?</section>', body, re.S).group(0)
    counts = re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">(\d+)</td></tr>", by_sdr)
    assert counts == [(str(inbound_sdr), "2"), (str(other_sdr), "1")]


@pytest.mark.django_db
def test_rejections_by_reason_and_the_acceptance_rate(client_for, inbound_sdr, ae, sales_manager):
    rejected(inbound_sdr, ae, "Not qualified: no budget")
    rejected(inbound_sdr, ae, "Not qualified: no budget")
    rejected(inbound_sdr, ae, "Other")
    accepted(inbound_sdr, ae, now=NOW)
    handed_off(inbound_sdr, ae, now=NOW)  # not answered yet: not counted

    body = client_for(sales_manager).get(URL, {"period": "all"}).content.decode()

    reasons = re.search(r'id="rejections".*?</section>', body, re.S).group(0)
    assert re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">(\d+)</td></tr>", reasons) == [
        ("Not qualified: no budget", "2"),
        ("Other", "1"),
    ]
    assert "25%" in body and "1 accepted, 3 rejected of 4 answered" in body


@pytest.mark.django_db
def test_the_period_narrows_what_is_counted(client_for, inbound_sdr, ae, sales_manager):
    old = lost(inbound_sdr, ae, after_days=2)  # lost on 26 Nov 2026
    rejected(inbound_sdr, ae, "Other")  # on 24 Nov 2026

    with time_machine.travel(NOW + timedelta(days=60), tick=False):
        client = client_for(sales_manager)
        recent = client.get(URL, {"period": "30"}).content.decode()
        wider = client.get(URL, {"period": "90"}).content.decode()
        default = client.get(URL).content.decode()

    assert old.name not in recent and "No handoff was rejected." in recent
    assert old.name in wider and "No handoff was rejected." not in wider
    assert old.name in default  # 90 days
    bad = client.get(URL, {"period": "forever"})
    assert bad.status_code == 400 and "Choose a period from the list." in bad.content.decode()


@pytest.mark.django_db
def test_an_sdr_team_manager_sees_the_losses_of_her_sdrs_handoffs(
    client_for, inbound_sdr, ae, manager, other_manager
):
    loss = lost(inbound_sdr, ae, after_days=1)
    assert loss.name in client_for(manager).get(URL, {"period": "all"}).content.decode()
    assert loss.name not in client_for(other_manager).get(URL, {"period": "all"}).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("sales_manager", 200),
        ("manager", 200),
        ("other_manager", 200),
        ("ae", 403),
        ("other_ae", 403),
        ("inbound_sdr", 403),
        ("outbound_sdr", 403),
        ("am", 403),
        ("marketing", 403),
    ],
)
def test_only_managers_see_early_losses(client_for, request, who, status):
    assert client_for(request.getfixturevalue(who)).get(URL).status_code == status


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("accounts:early_losses"))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 8])
def test_the_page_costs_the_same_queries_whatever_its_size(
    client_for, django_assert_num_queries, inbound_sdr, other_sdr, ae, sales_manager, size
):
    for n in range(size):
        lost(inbound_sdr if n % 2 else other_sdr, ae, after_days=1 + n % 10, campaign=CampaignFactory())
        rejected(inbound_sdr, ae, "Other")

    client = client_for(sales_manager)

    # session, user, count, the page's losses, by SDR, rejections by reason, acceptance
    with django_assert_num_queries(7):
        response = client.get(URL, {"period": "all"})
    assert response.content.decode().count('<tr id="loss-') == size
