"""Renewals stay with account management: the new-business pages of AEs, SDRs and their
managers never show them, and the handoff metrics don't count them."""

from datetime import UTC, date, datetime

import pytest

from accounts.models import Opportunity
from renewals.services import run_renewals
from tests.factories import accepted, contract, customer, handed_off

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 5, 1, 9, tzinfo=UTC)


@pytest.fixture
def renewal(am):
    contract(customer(am), end=date(2026, 6, 30), now=NOW)
    run_renewals(now=NOW)
    return Opportunity.objects.get(kind=Opportunity.Kind.RENEWAL)


@pytest.fixture
def big_manager(sales_manager, am):
    """Sol manages the AEs and the AMs."""
    am.team.manager = sales_manager
    am.team.save(update_fields=["manager"])
    return sales_manager


def test_aes_and_sdrs_see_no_renewal(client_for, renewal, inbound_sdr, ae):
    accepted(inbound_sdr, ae, now=NOW)
    for user in (ae, inbound_sdr):
        assert not Opportunity.objects.visible_to(user).filter(kind=Opportunity.Kind.RENEWAL).exists()
        client = client_for(user)
        assert client.get(f"/opportunities/{renewal.pk}/").status_code in (403, 404)
        listed = client.get("/api/v1/opportunities/").json()
        assert renewal.pk not in [row["id"] for row in listed["results"]]
    assert renewal.name not in client_for(ae).get("/pipeline/?view=list").content.decode()


def test_a_manager_of_aes_and_ams_gets_renewals_off_the_board_and_out_of_the_acceptance_rate(
    client_for, renewal, big_manager, inbound_sdr, ae
):
    accepted(inbound_sdr, ae, now=NOW, company="Hooli")
    client = client_for(big_manager)

    board = client.get("/pipeline/?view=list").content.decode()
    assert "Hooli" in board and renewal.name not in board
    assert client.get(f"/opportunities/{renewal.pk}/").status_code == 200  # still theirs to read

    handed_off(inbound_sdr, ae, now=NOW)  # not answered yet: not counted
    losses = client.get("/opportunities/early-losses/", {"period": "all"}).content.decode()
    assert "1 accepted, 0 rejected of 1 answered" in losses
