import os
import subprocess
import sys

import pytest
from django.conf import settings

from config.celery import app

# Variables the test run itself sets (the browser tests allow sync ORM calls next to Playwright's
# event loop); a production process has none of them.
ENV_FROM_TESTS = {"DEBUG", "SECURE_SSL_REDIRECT", "DJANGO_ALLOW_ASYNC_UNSAFE", "SECRET_KEY", "PYTEST_VERSION"}

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 64 + "-production-secret-from-the-environment",
    "ALLOWED_HOSTS": "crm.example.com",
    "DATABASE_URL": "postgres://refinery@127.0.0.1:5432/refinery",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp://mail.example.com:587",
    "BEHIND_TLS_PROXY": "1",
}


def deploy_check(**overrides):
    env = {k: v for k, v in os.environ.items() if k not in ENV_FROM_TESTS} | PRODUCTION_ENV | overrides
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_pass_the_deploy_check():
    result = deploy_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def import_settings(**overrides):
    """Import the settings in a fresh process with a production environment."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_FROM_TESTS} | PRODUCTION_ENV | overrides
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-c", "from config import settings; print('started', settings.DEBUG)"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("secret_key", [None, ""])
def test_production_refuses_to_start_without_a_secret_key(secret_key):
    result = import_settings(SECRET_KEY=secret_key)

    assert result.returncode != 0 and "started" not in result.stdout
    assert "ImproperlyConfigured: SECRET_KEY is not set" in result.stderr


def test_development_starts_without_a_secret_key():
    result = import_settings(SECRET_KEY=None, DEBUG="1")

    assert result.returncode == 0, result.stderr
    assert "started True" in result.stdout


def test_the_deploy_check_refuses_a_missing_secret_key():
    result = deploy_check(SECRET_KEY=None)
    assert result.returncode != 0 and "SECRET_KEY is not set" in result.stdout + result.stderr


def test_every_beat_entry_names_a_registered_task_and_expires():
    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name
        assert entry["options"]["expires"] > 0, name


@pytest.mark.django_db
def test_connections_are_kept_open_with_health_checks():
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
