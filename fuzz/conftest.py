"""The API fuzz run's world: the demo data set, seeded once into the test database at a fixed
time, with the fast password hasher. Run with ``make fuzz`` (a pytest session of its own: the
seeded rows would surprise the unit tests)."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings

from demo.story import DEMO_PASSWORD
from team.models import Role, User

# The demo data is seeded as of this instant and the fuzz run's clock starts there too, so
# every run sees the same data at the same ages.
NOW = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)

FAST_SETTINGS = {
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "SECURE_SSL_REDIRECT": False,
}


@pytest.fixture(scope="session")
def clock():
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, clock):
    with django_db_blocker.unblock(), override_settings(**FAST_SETTINGS):
        call_command("seed_demo", leads=80, stdout=open("/dev/null", "w"))  # noqa: SIM115
        # The demo's marketing user (mo) is also the admin, whom every rule lets through: a
        # marketing/ops user without the superuser flag too.
        mo = User.objects.get(username="mo")
        User.objects.create_user(
            username="mia", password=DEMO_PASSWORD, role=Role.MARKETING, team=mo.team, first_name="Mia"
        )
        # A marketing tool's service account: it captures leads and reads campaigns, nothing else.
        User.objects.create_user(
            username="ina", password=DEMO_PASSWORD, role=Role.INTEGRATION, team=mo.team, first_name="Ina"
        )


@pytest.fixture(autouse=True)
def _fast_settings(settings, tmp_path):
    for name, value in FAST_SETTINGS.items():
        setattr(settings, name, value)
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
