import pytest
from django.urls import reverse

from leads.models import Lead

VALID = {
    "email": " Jane.Doe@Example.com ",
    "first_name": "Jane",
    "last_name": "Doe",
    "company": "Initech",
    "title": "VP of Sales",
    "country": "USA",
    "employees": "1,200",
}


def url(form):
    return reverse("web_form", args=[form.key])


@pytest.mark.django_db
def test_a_marketing_site_posts_a_lead_and_gets_a_thank_you_page(client, web_form):
    response = client.post(url(web_form), VALID)

    assert response.status_code == 200
    assert web_form.thank_you_message in response.content.decode()
    lead = Lead.objects.get()
    assert (lead.email, lead.country, lead.employees, lead.seniority) == (
        "jane.doe@example.com",
        "US",
        1200,
        "vp",
    )
    assert lead.campaign == web_form.campaign
    assert lead.activities.get().source == "web_form"


@pytest.mark.django_db
def test_json_answer_when_asked_with_cors_for_any_site(client, web_form):
    response = client.post(url(web_form), VALID, HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response.json() == {"ok": True, "message": web_form.thank_you_message}
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.django_db
def test_id_like_a_call_marks_a_hand_raiser(client, web_form):
    client.post(url(web_form), {**VALID, "wants_call": "on"})

    lead = Lead.objects.get()
    assert lead.hand_raiser and lead.status == Lead.Status.MQL


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["", "not-an-email", "x y@z.com", "@example.com"])
def test_bad_email_is_a_400_with_the_field_message_and_nothing_saved(client, web_form, email):
    response = client.post(url(web_form), {**VALID, "email": email}, HTTP_ACCEPT="application/json")

    assert response.status_code == 400
    assert "email" in response.json()["errors"]
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_bad_input_re_renders_the_form_with_errors(client, web_form):
    response = client.post(url(web_form), {**VALID, "email": "nope", "company": "x" * 300})

    assert response.status_code == 400
    body = response.content.decode()
    assert "errorlist" in body and "company" in body.lower()
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_honeypot_submission_is_thanked_and_dropped(client, web_form):
    response = client.post(url(web_form), {**VALID, "website": "http://spam.example"})

    assert response.status_code == 200
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_oversized_submission_is_refused(client, web_form, settings):
    settings.WEBFORM_MAX_BYTES = 2000
    response = client.post(url(web_form), {**VALID, "message": "x" * 5000})

    assert response.status_code == 413
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_one_client_is_rate_limited(client, web_form, settings):
    settings.WEBFORM_RATE = "3/m"
    codes = [
        client.post(
            url(web_form), {**VALID, "email": f"p{i}@example.com"}, REMOTE_ADDR="10.0.0.9"
        ).status_code
        for i in range(5)
    ]
    other = client.post(url(web_form), {**VALID, "email": "q@example.com"}, REMOTE_ADDR="10.0.0.10")

    assert codes == [200, 200, 200, 429, 429]
    assert other.status_code == 200
    assert Lead.objects.count() == 4


@pytest.mark.django_db
def test_unknown_or_inactive_form_key_is_404(client, web_form):
    assert client.post(reverse("web_form", args=["nope"]), VALID).status_code == 404
    web_form.is_active = False
    web_form.save()
    assert client.post(url(web_form), VALID).status_code == 404
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_form_post_needs_no_csrf_token(web_form):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(url(web_form), VALID)
    assert response.status_code == 200


@pytest.mark.django_db
def test_formula_in_a_name_is_neutralized(client, web_form):
    client.post(url(web_form), {**VALID, "first_name": '=HYPERLINK("http://evil.example","x")'})

    assert Lead.objects.get().first_name.startswith("'=")
