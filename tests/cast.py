"""The cast the tests share, one function each: tests/conftest.py makes each a fixture of the
same name, and a class- or module-scoped fixture (tests/shared_rows.py) calls them directly."""

from team.models import Role
from tests.factories import TeamFactory, UserFactory


def inbound_sdr():
    """Sam, an inbound SDR in the Inbound EMEA team (Berlin calendar)."""
    return UserFactory(username="sam", role=Role.INBOUND_SDR)


def other_sdr():
    """Lena, a second inbound SDR in Sam's team."""
    return UserFactory(username="lena", role=Role.INBOUND_SDR)


def outbound_sdr():
    """Tom, an outbound SDR in the Outbound team."""
    return UserFactory(
        username="tom", role=Role.OUTBOUND_SDR, team=TeamFactory(name="Outbound", kind="outbound")
    )


def ae():
    """Alex, an AE in the AEs team."""
    return UserFactory(username="alex", role=Role.AE, team=TeamFactory(name="AEs", kind="sales"))


def other_ae(ae):
    """Ana, a second AE in Alex's team."""
    return UserFactory(username="ana", role=Role.AE, team=ae.team)


def sales_manager(ae):
    """Sol manages the AEs team (Alex's)."""
    user = UserFactory(username="sol", role=Role.MANAGER, team=ae.team)
    ae.team.manager = user
    ae.team.save(update_fields=["manager"])
    return user


def ae_rule(ae):
    """Every handoff goes to the AEs team (Alex's), by round-robin."""
    from sdr.models import TerritoryRule

    return TerritoryRule.objects.create(name="All handoffs", team=ae.team, position=1000)


def am():
    """Casey, an AM in the AMs team."""
    return UserFactory(username="casey", role=Role.AM, team=TeamFactory(name="AMs", kind="am"))


def am_manager(am):
    """Moe manages the AMs team (Casey's)."""
    user = UserFactory(username="moe", role=Role.MANAGER, email="moe@example.com", team=am.team)
    am.team.manager = user
    am.team.save(update_fields=["manager"])
    return user


def am_rule(am):
    """Every new customer goes to the AMs team (Casey's), by round-robin."""
    from sdr.models import TerritoryRule

    return TerritoryRule.objects.create(name="All customers", team=am.team, position=1000)


def manager():
    """Maria manages the Inbound EMEA team (the team ``inbound_sdr`` and ``other_sdr`` are in)."""
    user = UserFactory(username="maria", role=Role.MANAGER)
    user.team.manager = user
    user.team.save(update_fields=["manager"])
    return user


def other_manager(outbound_sdr):
    """Olga manages the Outbound team (Tom's), none of Maria's."""
    user = UserFactory(username="olga", role=Role.MANAGER, team=outbound_sdr.team)
    outbound_sdr.team.manager = user
    outbound_sdr.team.save(update_fields=["manager"])
    return user


def catch_all_rule():
    """Every sales-ready lead goes to the Inbound EMEA team."""
    from sdr.models import TerritoryRule

    return TerritoryRule.objects.create(name="Everything", team=TeamFactory(), position=1000)


def marketing():
    """Mo, in marketing."""
    return UserFactory(username="mo", role=Role.MARKETING)
