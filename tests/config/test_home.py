import pytest
from django.urls import reverse


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "landing"),
    [
        ("inbound_sdr", "sdr:queue"),
        ("outbound_sdr", "sdr:queue"),
        ("manager", "work:breaches"),
        ("marketing", "leads:list"),
    ],
)
def test_each_role_lands_where_it_works(client_for, request, role, landing):
    response = client_for(request.getfixturevalue(role)).get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse(landing)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["ae", "am"])
def test_aes_and_ams_see_the_home_page_until_their_own_queues_arrive(client_for, request, role):
    response = client_for(request.getfixturevalue(role)).get(reverse("home"))
    assert response.status_code == 200
