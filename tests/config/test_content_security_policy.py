"""Every answer carries a strict Content-Security-Policy, and nothing in the templates or the
static files needs an exception to it (the browser tests check the pages run under it)."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import WebFormFactory

STRICT = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'self'",
    "object-src 'none'",
}


def directives(response) -> set[str]:
    return {part.strip() for part in response["Content-Security-Policy"].split(";")}


@pytest.mark.django_db
def test_pages_and_the_api_carry_the_strict_policy(client, client_for, manager):
    web_form = WebFormFactory()
    answers = [
        client.get("/login/"),
        client.get(f"/f/{web_form.key}/"),
        client.get("/api/v1/leads/"),  # a refusal, in JSON
    ]
    signed_in = client_for(manager)
    answers += [
        signed_in.get("/work/breaches/"),
        signed_in.get("/api/docs/"),
        signed_in.get("/api/v1/leads/"),
    ]

    for response in answers:
        assert directives(response) == STRICT, response.request["PATH_INFO"]


@pytest.mark.django_db
def test_only_redoc_may_style_itself_inline(client_for, manager):
    response = client_for(manager).get("/api/redoc/")

    assert "style-src 'self' 'unsafe-inline'" in directives(response)
    assert "script-src 'self'" in directives(response)


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<style[\s>]", re.I), "a <style> block"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an inline event handler"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


def test_no_template_needs_an_inline_exception():
    found = []
    for path in sorted(Path(settings.CONFIG_DIR, "templates").rglob("*.html")):
        if path.parent.name == "email" and not path.name.startswith("_"):
            # A whole email document is read in a mail client, never served under the site's
            # policy; the parts it shares with a page (``_*.html``) are still checked.
            continue
        text = re.sub(r"{#.*?#}", "", path.read_text())  # comments may name what they avoid
        found += [f"{path.name}: {what}" for pattern, what in INLINE if pattern.search(text)]
    assert found == []
