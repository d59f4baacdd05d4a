"""Password guessing: the login page, the admin's login and the token endpoint answer 429 with
Retry-After once an account or a client has tried too often."""

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

# 10:00:30 UTC: a 15-minute window (aligned on the epoch) ends at 10:15:00, 870 s later.
NOW = datetime(2026, 12, 6, 10, 0, 30, tzinfo=UTC)


pytestmark = pytest.mark.usefixtures("frozen")


def login(client, username, password, ip="10.1.1.1", path="/login/"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_guessing_one_accounts_password_is_refused_with_retry_after(client, manager, settings):
    settings.LOGIN_RATE_ACCOUNT = "10/15m"
    wrong = [login(client, "maria", f"guess{i}", ip=f"10.1.1.{i}") for i in range(10)]
    assert {r.status_code for r in wrong} == {200}
    assert all("correct username and password" in r.content.decode() for r in wrong)

    refused = login(client, "maria", "guess-again", ip="10.9.9.9")  # a new address does not help
    assert refused.status_code == 429 and refused["Retry-After"] == "870"
    assert "Too many login attempts. Try again in 15 minutes." in refused.content.decode()

    # Not even the right password gets in until the window is over.
    assert login(client, "maria", "pw").status_code == 429
    assert client.get("/leads/").status_code == 302


@pytest.mark.django_db
def test_after_the_window_the_right_password_works(client, manager, settings, frozen):
    settings.LOGIN_RATE_ACCOUNT = "3/15m"
    for i in range(4):
        login(client, "maria", f"guess{i}")
    assert login(client, "maria", "pw").status_code == 429

    frozen.shift(870)
    response = login(client, "maria", "pw")
    assert response.status_code == 302
    assert client.get("/leads/").status_code == 200


@pytest.mark.django_db
def test_one_client_trying_many_accounts_is_refused(client, manager, inbound_sdr, settings):
    settings.LOGIN_RATE_CLIENT = "5/m"
    codes = [login(client, f"someone{i}", "password", ip="10.2.2.2").status_code for i in range(5)]
    refused = login(client, "maria", "pw", ip="10.2.2.2")

    assert codes == [200] * 5
    assert refused.status_code == 429 and refused["Retry-After"] == "30"
    # Another client, and the same account from it, are not affected.
    assert login(client, "maria", "pw", ip="10.3.3.3").status_code == 302


@pytest.mark.django_db
def test_usernames_differing_in_case_share_one_count(client, manager, settings):
    settings.LOGIN_RATE_ACCOUNT = "2/15m"
    login(client, "maria", "a", ip="10.0.0.1")
    login(client, "MARIA", "b", ip="10.0.0.2")
    assert login(client, "Maria ", "c", ip="10.0.0.3").status_code == 429


@pytest.mark.django_db
def test_the_admin_login_is_throttled_too(client, settings):
    from tests.factories import UserFactory

    UserFactory(username="mo", is_staff=True, is_superuser=True)
    settings.LOGIN_RATE_ACCOUNT = "3/15m"
    for i in range(3):
        assert login(client, "mo", f"guess{i}", path="/admin/login/").status_code == 200
    refused = login(client, "mo", "pw", path="/admin/login/")

    assert refused.status_code == 429 and refused["Retry-After"] == "870"
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_the_token_endpoint_is_throttled_by_account(manager, settings):
    settings.LOGIN_RATE_ACCOUNT = "3/15m"
    api = APIClient()
    for i in range(3):
        response = api.post(
            "/api/v1/auth/token/", {"username": "maria", "password": f"guess{i}"}, format="json"
        )
        assert response.status_code == 400
    refused = api.post("/api/v1/auth/token/", {"username": "maria", "password": "pw"}, format="json")

    assert refused.status_code == 429 and refused["Retry-After"] == "870"
    assert "token" not in refused.json()


@pytest.mark.django_db
def test_signing_in_normally_is_not_throttled(client, manager, settings):
    """Only failed attempts count: a person who signs in often, or a script fetching tokens,
    is never refused."""
    settings.LOGIN_RATE_ACCOUNT = "2/15m"
    settings.LOGIN_RATE_CLIENT = "2/15m"
    for _ in range(5):
        assert login(client, "maria", "pw").status_code == 302
        client.post("/logout/")
    api = APIClient()
    for _ in range(5):
        response = api.post("/api/v1/auth/token/", {"username": "maria", "password": "pw"}, format="json")
        assert response.status_code == 200
    # Two wrong passwords use up the count: then even the right one waits.
    login(client, "maria", "wrong")
    login(client, "maria", "wrong again")
    assert login(client, "maria", "pw").status_code == 429


@pytest.mark.django_db
def test_the_embedded_mode_throttles_too(client, manager, settings):
    # No Redis: one process, and the per-process cache counts.
    settings.REDIS_URL = ""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.LOGIN_RATE_ACCOUNT = "2/15m"
    for i in range(2):
        assert login(client, "maria", f"guess{i}").status_code == 200
    refused = login(client, "maria", "pw")

    assert refused.status_code == 429 and refused["Retry-After"] == "870"


@pytest.mark.django_db
@pytest.mark.parametrize("body", [[], "maria", {"username": ["maria"], "password": "pw"}])
def test_a_malformed_token_request_is_a_400(body):
    response = APIClient().post("/api/v1/auth/token/", body, format="json")

    assert response.status_code == 400 and "token" not in response.json()
