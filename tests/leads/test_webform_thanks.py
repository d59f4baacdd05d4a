"""The web form's thank-you page can name the company and link back to its site (fields on
the web form, edited in the admin: no deploy)."""

import pytest
from django.urls import reverse

from leads.models import WebForm

VALID = {"email": "jane@initech.example", "first_name": "Jane", "last_name": "Doe", "company": "Initech"}


@pytest.fixture(autouse=True)
def no_drain(monkeypatch):
    monkeypatch.setattr("leads.tasks.request_submission_drain", lambda **kwargs: None)


@pytest.mark.django_db
def test_the_thank_you_page_names_the_company_and_links_back(client, web_form):
    web_form.company_name = "Acme Analytics"
    web_form.company_url = "https://acme.example/"
    web_form.save()
    WebForm._cache.clear()

    page = client.post(reverse("web_form", args=[web_form.key]), VALID).content.decode()

    assert '<p class="company" id="company">Acme Analytics</p>' in page
    assert (
        '<a id="back-to-company" href="https://acme.example/" rel="noopener">Back to Acme Analytics</a>'
        in page
    )
    assert web_form.thank_you_message in page


@pytest.mark.django_db
def test_without_them_the_page_is_the_message_alone(client, web_form):
    page = client.post(reverse("web_form", args=[web_form.key]), VALID).content.decode()
    assert web_form.thank_you_message in page
    assert "back-to-company" not in page and 'id="company"' not in page


@pytest.mark.django_db
def test_the_admin_refuses_a_link_that_is_not_a_web_address(admin_client, web_form):
    url = reverse("admin:leads_webform_change", args=[web_form.pk])
    form = {
        "name": web_form.name,
        "campaign": web_form.campaign_id,
        "is_active": "on",
        "activity_kind": web_form.activity_kind,
        "thank_you_message": web_form.thank_you_message,
        "company_name": "Acme",
        "company_url": "javascript:alert(1)",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 200 and "Enter a valid URL." in response.content.decode()
    web_form.refresh_from_db()
    assert web_form.company_url == ""
