"""API tokens expire, are listed and revoked by their owner, and die with a password change."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from team.models import ApiToken
from tests.factories import UserFactory, api_token

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


pytestmark = pytest.mark.usefixtures("frozen")


def with_token(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def obtain(username="maria", password="pw", **extra):
    return APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": password, **extra}, format="json"
    )


def can_use(token: str) -> bool:
    status = with_token(token).get("/api/v1/auth/tokens/").status_code
    assert status in (200, 401, 403)
    return status == 200


@pytest.mark.django_db
def test_a_token_from_username_and_password_works_until_it_expires(manager, settings, frozen):
    settings.API_TOKEN_TTL_DAYS = 30
    response = obtain(name="laptop script")

    assert response.status_code == 200
    body = response.json()
    assert body["token"].startswith("rfy_") and body["name"] == "laptop script"
    assert body["expires_at"] == "2027-01-05T09:00:00Z"
    assert can_use(body["token"])

    frozen.move_to(NOW + timedelta(days=30) - timedelta(seconds=1))
    assert can_use(body["token"])
    frozen.move_to(NOW + timedelta(days=30))
    assert not can_use(body["token"])


@pytest.mark.django_db
def test_a_wrong_password_gets_no_token(manager):
    response = obtain(password="nope")

    assert response.status_code == 400 and "token" not in response.json()
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_only_a_digest_of_the_token_is_stored(manager):
    token = obtain().json()["token"]

    row = ApiToken.objects.get()
    stored = [str(value) for value in row.__dict__.values()]
    assert not any(token in value for value in stored)
    assert token.startswith(row.prefix)


@pytest.mark.django_db
def test_a_user_lists_and_revokes_their_tokens(manager):
    laptop = obtain(name="laptop").json()
    ci = obtain(name="ci").json()
    api = with_token(laptop["token"])

    listed = api.get("/api/v1/auth/tokens/").json()
    assert [t["name"] for t in listed] == ["ci", "laptop"]
    assert all("token" not in t and "digest" not in t for t in listed)
    assert listed[0]["prefix"] == ci["token"][: len(listed[0]["prefix"])]

    assert api.delete(f"/api/v1/auth/tokens/{ci['id']}/").status_code == 204
    assert not can_use(ci["token"])
    assert [t["name"] for t in api.get("/api/v1/auth/tokens/").json()] == ["laptop"]
    # Revoking the token in use ends it too.
    assert api.delete(f"/api/v1/auth/tokens/{laptop['id']}/").status_code == 204
    assert not can_use(laptop["token"])


@pytest.mark.django_db
def test_nobody_sees_or_revokes_someone_elses_token(manager, inbound_sdr):
    marias = obtain(name="maria's").json()
    sams = with_token(api_token(inbound_sdr))

    assert [t["name"] for t in sams.get("/api/v1/auth/tokens/").json()] == ["tests"]
    assert sams.delete(f"/api/v1/auth/tokens/{marias['id']}/").status_code == 404
    assert can_use(marias["token"])


@pytest.mark.django_db
def test_a_password_change_revokes_every_token(manager):
    tokens = [obtain(name=f"t{i}").json()["token"] for i in range(2)]
    assert all(can_use(t) for t in tokens)

    manager.set_password("a new passphrase")
    manager.save()

    assert not any(can_use(t) for t in tokens)
    fresh = obtain(password="a new passphrase").json()["token"]
    assert [t["name"] for t in with_token(fresh).get("/api/v1/auth/tokens/").json()] == [""]


@pytest.mark.django_db
def test_changepassword_command_revokes_tokens_too(manager, monkeypatch):
    token = obtain().json()["token"]
    monkeypatch.setattr("getpass.getpass", lambda *args, **kwargs: "Another-passphrase-42")

    call_command("changepassword", "maria")

    assert not can_use(token)


@pytest.mark.django_db
def test_an_inactive_users_token_is_refused(manager):
    token = obtain().json()["token"]
    manager.is_active = False
    manager.save()

    assert not can_use(token)


@pytest.mark.django_db
def test_anonymous_cannot_list_tokens():
    assert APIClient().get("/api/v1/auth/tokens/").status_code in (401, 403)


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 5, 20])
def test_listing_tokens_issues_a_fixed_number_of_queries(django_assert_num_queries, size):
    user = UserFactory()
    for i in range(size):
        api_token(user, name=f"t{i}")
    api = APIClient()
    api.force_authenticate(user)
    with django_assert_num_queries(1):
        response = api.get("/api/v1/auth/tokens/")
    assert response.status_code == 200 and len(response.json()) == size


@pytest.mark.django_db
def test_the_tokens_page_makes_shows_once_and_revokes(client_for, manager):
    web = client_for(manager)

    made = web.post("/account/tokens/", {"name": "zapier"})
    body = made.content.decode()
    assert made.status_code == 200 and "Copy it now" in body
    raw = body.split('<code class="new-token">')[1].split("</code>")[0]
    assert can_use(raw)

    page = web.get("/account/tokens/").content.decode()
    assert "zapier" in page and raw not in page and raw[:10] in page
    token = ApiToken.objects.get(user=manager)

    revoked = web.post("/account/tokens/", {"revoke": token.pk}, follow=True)
    assert "Token revoked." in revoked.content.decode() and "zapier" not in revoked.content.decode()
    assert not can_use(raw)


@pytest.mark.django_db
def test_the_tokens_page_revokes_only_your_own(client_for, manager, inbound_sdr):
    sams = api_token(inbound_sdr)
    theirs = ApiToken.objects.get(user=inbound_sdr)

    response = client_for(manager).post("/account/tokens/", {"revoke": theirs.pk}, follow=True)

    assert "No such token." in response.content.decode()
    assert can_use(sams)


@pytest.mark.django_db
def test_the_tokens_page_needs_a_login(client):
    response = client.get("/account/tokens/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_an_admin_sees_who_holds_tokens_and_revokes_one(client_for, inbound_sdr):
    sams = api_token(inbound_sdr, name="sam's script")
    token = ApiToken.objects.get()
    admin = client_for(UserFactory(username="mo", is_staff=True, is_superuser=True))

    listing = admin.get("/admin/team/apitoken/").content.decode()
    assert "sam&#x27;s script" in listing and token.prefix in listing and sams not in listing

    assert admin.post(f"/admin/team/apitoken/{token.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not can_use(sams)
