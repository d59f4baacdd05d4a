"""Fixtures the accounts tests share."""

import pytest

from team.models import Role
from tests.factories import TeamFactory, UserFactory


@pytest.fixture
def far_ae(db):
    """Bo, an AE in another sales team (AEs West): none of Alex's opportunities are his."""
    return UserFactory(username="bo", role=Role.AE, team=TeamFactory(name="AEs West", kind="sales"))


@pytest.fixture
def acme(outbound_sdr):
    """Acme, a target account Tom (an outbound SDR) prospects."""
    from accounts.models import Account

    return Account.objects.create(
        name="Acme",
        domain="acme.com",
        industry="Software",
        country="DE",
        employees=250,
        prospector=outbound_sdr,
    )
