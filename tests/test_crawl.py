"""The embedded mode and PostgreSQL serve the same site: seed the demo, log in as every demo
user and open every page reachable from where they land (links, the navigation, the htmx
partials the pages load and the GET filter forms) and from the API's root, asserting that none
answers 5xx.

Runs in the normal suite (PostgreSQL) and on SQLite with ``make test-sqlite``."""

import logging
import re
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from demo.story import DEMO_PASSWORD, PEOPLE
from leads.models import WebForm

log = logging.getLogger(__name__)

pytestmark = [pytest.mark.crawl, pytest.mark.django_db]

# Bounds: every distinct page shape is opened, but 300 lead pages are not.
PAGES_PER_USER = 150
PER_PATTERN = 2  # "the same page": see _pattern
PER_PATH = 10  # and filter combinations on one page do not starve the others
# Never opened: they end the session, delete, or are files.
SKIP = re.compile(r"/logout/|/delete/|^/static/|^/media/")
DEMO_LEADS = 60


class _LinkParser(HTMLParser):
    """<a href>, hx-get (with HX-Request) and GET forms submitted with their current values."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, bool]] = []
        self._form: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "a" and attrs.get("href"):
            self.links.append((attrs["href"], False))
        if attrs.get("hx-get") and tag != "form":
            self.links.append((attrs["hx-get"], True))
        if tag == "form" and attrs.get("method", "get").lower() == "get":
            action = attrs.get("hx-get") or attrs.get("action") or ""
            self._form = {"action": action, "htmx": bool(attrs.get("hx-get")), "fields": []}
        elif self._form is not None:
            name = attrs.get("name")
            if tag == "input" and name and attrs.get("type", "text") not in ("submit", "button", "file"):
                if attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs:
                    self._form["fields"].append((name, attrs.get("value", "")))
            elif tag == "select" and name:
                self._select = name
                self._form["options"] = []
            elif tag == "option" and self._select:
                self._form["options"].append(("selected" in attrs, attrs.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "select" and self._form is not None and self._select:
            options = self._form.pop("options", [])
            chosen = [v for selected, v in options if selected] or [v for _, v in options[:1]]
            self._form["fields"].append((self._select, chosen[0] if chosen else ""))
            # and one submission with the last option chosen, so each filter is exercised
            if options and options[-1][1]:
                self._form.setdefault("variants", []).append((self._select, options[-1][1]))
            self._select = None
        if tag == "form" and self._form is not None:
            form = self._form
            self._form = None
            fields = [(k, v) for k, v in form["fields"] if v]
            self.links.append((f"{form['action']}?{urlencode(fields)}", form["htmx"]))
            for name, value in form.get("variants", []):
                varied = [(k, v) for k, v in fields if k != name] + [(name, value)]
                self.links.append((f"{form['action']}?{urlencode(varied)}", form["htmx"]))


def _pattern(url: str) -> tuple:
    """What counts as "the same page": ids and dates normalised, the query's names (not values;
    the admin's filters are one page each)."""
    parts = urlsplit(url)
    path = re.sub(r"\d+", "#", parts.path)
    if path.startswith("/admin/"):
        return (path,)
    return path, tuple(sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)}))


def _same_site(base: str, href: str) -> str | None:
    href = href.strip()
    if not href or href.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
        return None
    url = urlsplit(urljoin(base, href))
    if url.scheme not in ("http", "https", "") or url.netloc not in ("", "testserver"):
        return None
    if SKIP.search(url.path):
        return None
    return url.path + (f"?{url.query}" if url.query else "")


@dataclass
class Crawl:
    pages: int = 0
    failures: list[str] = field(default_factory=list)


def _json_links(value) -> list[str]:
    """The API's own links in a JSON answer: the root's endpoints, pages, related resources."""
    if isinstance(value, dict):
        return [link for item in value.values() for link in _json_links(item)]
    if isinstance(value, list):
        return [link for item in value for link in _json_links(item)]
    if isinstance(value, str) and value.startswith(("http://testserver/api/", "/api/")):
        return [value]
    return []


def _open(client: Client, who: str, url: str, htmx: bool, referrer: str, result: Crawl) -> list[str]:
    """GET one page; a 5xx (or an exception) is a failure; returns the same-site URLs it offers."""
    result.pages += 1
    try:
        response = client.get(url, headers={"HX-Request": "true"} if htmx else {})
    except Exception as exc:
        where = "".join(traceback.format_exception(exc, limit=-3))
        result.failures.append(f"{who}: GET {url} (htmx={htmx}, from {referrer}) raised\n{where}")
        return []
    log.info("%s %s %s%s", who, response.status_code, url, " (htmx)" if htmx else "")
    if response.status_code >= 500:
        result.failures.append(f"{who}: GET {url} (htmx={htmx}, from {referrer}) -> {response.status_code}")
        return []
    if response.status_code in (301, 302, 303, 307, 308):
        return [(response["Location"], htmx)]
    if response.streaming:
        return []
    if response.get("Content-Type", "").startswith("application/json"):
        body = response.json()
        links = _json_links(body)
        rows = body.get("results", body) if isinstance(body, dict) else body
        if isinstance(rows, list) and re.fullmatch(r"/api/v1/[\w-]+/", urlsplit(url).path):
            # a list's first rows by id: their detail endpoints
            links += [
                f"{urlsplit(url).path}{row['id']}/"
                for row in rows[:2]
                if isinstance(row, dict) and "id" in row
            ]
        return [(link, False) for link in links]
    if "html" not in response.get("Content-Type", ""):
        return []
    parser = _LinkParser()
    parser.feed(response.content.decode(response.charset or "utf-8", errors="replace"))
    return parser.links


def _crawl(client: Client, who: str, admin_opened: dict[tuple, int], start: tuple[str, ...]) -> Crawl:
    """Breadth first from the landing page: the site's pages (PAGES_PER_USER at most), then the
    admin's, each admin page once for all users (Django's pages; the site's differ by role)."""
    result = Crawl()
    site: deque[tuple[str, bool, str]] = deque((url, False, "(start)") for url in start)
    admin: deque[tuple[str, bool, str]] = deque()
    seen_urls: set[tuple[str, bool]] = set()
    opened: dict[tuple, int] = {}
    while site or admin:
        url, htmx, referrer = (site or admin).popleft()
        in_admin = url.startswith("/admin/")
        counts = admin_opened if in_admin else opened
        if (url, htmx) in seen_urls or (not in_admin and result.pages >= PAGES_PER_USER):
            continue
        seen_urls.add((url, htmx))
        pattern = (*_pattern(url), htmx)
        path = (pattern[0], htmx)
        if counts.get(pattern, 0) >= PER_PATTERN or counts.get(path, 0) >= PER_PATH:
            continue
        counts[pattern] = counts.get(pattern, 0) + 1
        counts[path] = counts.get(path, 0) + 1
        for href, is_htmx in _open(client, who, url, htmx, referrer, result):
            target = _same_site(url, href)
            if target:
                (admin if target.startswith("/admin/") else site).append((target, is_htmx, url))
    return result


@time_machine.travel(datetime(2026, 12, 7, 14, 30, tzinfo=UTC), tick=True)
def test_every_page_reachable_by_every_demo_user_answers_without_a_server_error():
    started = time.perf_counter()
    call_command("seed_demo", leads=DEMO_LEADS, verbosity=0)
    seeded = time.perf_counter() - started

    failures: list[str] = []
    crawled: dict[str, int] = {}
    admin_opened: dict[tuple, int] = {}
    # Signed out: the login page and the public web form.
    form = reverse("web_form", args=[WebForm.objects.get(name="Website demo request").key])
    signed_out = _crawl(Client(raise_request_exception=True), "(signed out)", admin_opened, ("/", form))
    failures += signed_out.failures
    for username, *_ in PEOPLE:
        client = Client(raise_request_exception=True)
        assert client.login(username=username, password=DEMO_PASSWORD), username
        result = _crawl(client, username, admin_opened, ("/", "/api/v1/"))
        crawled[username] = result.pages
        failures += result.failures

    summary = ", ".join(f"{u} {n}" for u, n in crawled.items())
    took = time.perf_counter() - started - seeded
    print(
        f"\nseeded in {seeded:.1f} s; crawled {sum(crawled.values()) + signed_out.pages} pages on {connection.vendor}"
        f" in {took:.1f} s ({summary}; signed out {signed_out.pages})"
    )
    # every user got past the landing page into the site
    assert all(n > 3 for n in crawled.values()), summary
    assert not failures, f"{len(failures)} server errors on {connection.vendor}:\n" + "\n".join(failures)
