import pytest
import time_machine

from team.models import Role
from tests import cast, clock_shift
from tests.factories import CampaignFactory, UserFactory, WebFormFactory, make_profile
from tests.shared_rows import FAST_HASHERS, restore_migrated_rows


def pytest_configure(config):
    clock_shift.start()  # REFINERY_TEST_CLOCK_SHIFT=+365d runs the session a year ahead


def pytest_unconfigure(config):
    clock_shift.stop()


def pytest_report_header(config):
    return clock_shift.header()


def pytest_terminal_summary(terminalreporter):
    if clock_shift.shifted():
        terminalreporter.write_line(clock_shift.header())  # also under -q, which hides the header


@pytest.fixture(scope="session", autouse=True)
def _no_lingering_connections(django_db_setup, django_db_blocker):
    """After the last test, before the test database is dropped: a connection a test's thread
    left open (a worker or server thread whose connection was never closed) would make the drop
    fail. Name each such session, so its test can be found, and end it."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, left(query, 200) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        lingering = cursor.fetchall()
        for pid, state, query in lingering:
            print(f"\nA test left a database session open (pid {pid}, {state}): {query}")
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = FAST_HASHERS
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
        restore_migrated_rows()


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    from leads.models import WebForm
    from leads.services import webform
    from propensity.scorer import SCORER

    cache.clear()  # also the rate-limit counters: they live in the same Redis database
    WebForm._cache.clear()
    SCORER.forget()  # the learned model this process kept (its rows are rolled back)
    webform._last_drain_request[0] = float("-inf")


@pytest.fixture
def frozen(request):
    """The clock stopped at the test module's ``NOW`` for the whole test, its fixtures included;
    yields the traveller (``frozen.shift(seconds)``, ``frozen.move_to(moment)``). A module whose
    every test lives then says ``pytestmark = pytest.mark.usefixtures("frozen")``."""
    with time_machine.travel(request.module.NOW, tick=False) as traveller:
        yield traveller


# --- the cast (tests/cast.py says who each is) ----------------------------------------------------


@pytest.fixture
def inbound_sdr(db):
    return cast.inbound_sdr()


@pytest.fixture
def other_sdr(db):
    return cast.other_sdr()


@pytest.fixture
def outbound_sdr(db):
    return cast.outbound_sdr()


@pytest.fixture
def ae(db):
    return cast.ae()


@pytest.fixture
def other_ae(ae):
    return cast.other_ae(ae)


@pytest.fixture
def sales_manager(ae):
    return cast.sales_manager(ae)


@pytest.fixture
def ae_rule(ae):
    return cast.ae_rule(ae)


@pytest.fixture
def am(db):
    return cast.am()


@pytest.fixture
def am_manager(am):
    return cast.am_manager(am)


@pytest.fixture
def am_rule(am):
    return cast.am_rule(am)


@pytest.fixture
def manager(db):
    return cast.manager()


@pytest.fixture
def other_manager(outbound_sdr):
    return cast.other_manager(outbound_sdr)


@pytest.fixture
def catch_all_rule(db):
    return cast.catch_all_rule()


@pytest.fixture
def marketing(db):
    return cast.marketing()


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


@pytest.fixture
def admin_client(client, db):
    """Ops, a superuser with the marketing role, logged in on the test client (pytest-django's own
    ``admin_client`` would be an inbound SDR, the role's default)."""
    client.force_login(UserFactory(username="ops", role=Role.MARKETING, is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def api():
    """DRF's test client, logged in as nobody (``api_for`` logs someone in on this same client)."""
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def api_for(api):
    """Authenticate a user on the API client: ``api_for(manager).get("/api/v1/...")``."""

    def authenticate(user):
        api.force_authenticate(user)
        return api

    return authenticate
