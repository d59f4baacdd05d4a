import pytest

from team.models import Role
from tests import clock_shift
from tests.factories import CampaignFactory, TeamFactory, UserFactory, WebFormFactory, make_profile


def pytest_configure(config):
    clock_shift.start()  # REFINERY_TEST_CLOCK_SHIFT=+365d runs the session a year ahead


def pytest_unconfigure(config):
    clock_shift.stop()


def pytest_report_header(config):
    return clock_shift.header()


def pytest_terminal_summary(terminalreporter):
    if clock_shift.shifted():
        terminalreporter.write_line(clock_shift.header())  # also under -q, which hides the header


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SECURE_SSL_REDIRECT = False
    # A login lasts the whole test, whatever day the test travels to: with the default two weeks,
    # a session started on the real date (or a year back, under REFINERY_TEST_CLOCK_SHIFT) had
    # expired by the fixed dates the tests live on.
    settings.SESSION_COOKIE_AGE = 10 * 365 * 24 * 3600
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _migrated_rows(request):
    """The rows the data migrations create; transactional tests flush them, so put them back."""
    if request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(request.fixturenames):
        from accounts.services import acceptance_policy, ensure_default_stages
        from leads.models import ScoringSettings
        from renewals.models import RenewalSettings
        from renewals.services import renewal_policies
        from sdr.services import first_touch_policies

        ScoringSettings.load()
        first_touch_policies()
        acceptance_policy()
        ensure_default_stages()
        renewal_policies()
        RenewalSettings.load()


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    from leads.models import WebForm
    from leads.services import webform

    cache.clear()  # also the rate-limit counters: they live in the same Redis database
    WebForm._cache.clear()
    webform._last_drain_request[0] = float("-inf")


@pytest.fixture
def inbound_sdr(db):
    return UserFactory(username="sam", role=Role.INBOUND_SDR)


@pytest.fixture
def other_sdr(db):
    return UserFactory(username="lena", role=Role.INBOUND_SDR)


@pytest.fixture
def outbound_sdr(db):
    return UserFactory(
        username="tom", role=Role.OUTBOUND_SDR, team=TeamFactory(name="Outbound", kind="outbound")
    )


@pytest.fixture
def ae(db):
    return UserFactory(username="alex", role=Role.AE, team=TeamFactory(name="AEs", kind="sales"))


@pytest.fixture
def other_ae(ae):
    """Ana, a second AE in Alex's team."""
    return UserFactory(username="ana", role=Role.AE, team=ae.team)


@pytest.fixture
def sales_manager(ae):
    """Sol manages the AEs team (Alex's)."""
    user = UserFactory(username="sol", role=Role.MANAGER, team=ae.team)
    ae.team.manager = user
    ae.team.save(update_fields=["manager"])
    return user


@pytest.fixture
def ae_rule(ae):
    """Every handoff goes to the AEs team (Alex's), by round-robin."""
    from sdr.models import TerritoryRule

    return TerritoryRule.objects.create(name="All handoffs", team=ae.team, position=1000)


@pytest.fixture
def am(db):
    return UserFactory(username="casey", role=Role.AM, team=TeamFactory(name="AMs", kind="am"))


@pytest.fixture
def am_manager(am):
    """Moe manages the AMs team (Casey's)."""
    user = UserFactory(username="moe", role=Role.MANAGER, email="moe@example.com", team=am.team)
    am.team.manager = user
    am.team.save(update_fields=["manager"])
    return user


@pytest.fixture
def am_rule(am):
    """Every new customer goes to the AMs team (Casey's), by round-robin."""
    from sdr.models import TerritoryRule

    return TerritoryRule.objects.create(name="All customers", team=am.team, position=1000)


@pytest.fixture
def manager(db):
    """Maria manages the Inbound EMEA team (the team ``inbound_sdr`` and ``other_sdr`` are in)."""
    user = UserFactory(username="maria", role=Role.MANAGER)
    user.team.manager = user
    user.team.save(update_fields=["manager"])
    return user


@pytest.fixture
def other_manager(outbound_sdr):
    """Olga manages the Outbound team (Tom's), none of Maria's."""
    user = UserFactory(username="olga", role=Role.MANAGER, team=outbound_sdr.team)
    outbound_sdr.team.manager = user
    outbound_sdr.team.save(update_fields=["manager"])
    return user


@pytest.fixture
def catch_all_rule(db):
    """Every sales-ready lead goes to the Inbound EMEA team."""
    from sdr.models import TerritoryRule

    return TerritoryRule.objects.create(name="Everything", team=TeamFactory(), position=1000)


@pytest.fixture
def marketing(db):
    return UserFactory(username="mo", role=Role.MARKETING)


@pytest.fixture
def campaign(db):
    return CampaignFactory(name="Google Ads", channel="paid_search", cost=5000)


@pytest.fixture
def web_form(campaign):
    return WebFormFactory(campaign=campaign)


@pytest.fixture
def profile(db):
    return make_profile()


@pytest.fixture
def client_for(client):
    """Log a user in on the test client: ``client_for(manager).get(...)``."""

    def login(user):
        client.force_login(user)
        return client

    return login
