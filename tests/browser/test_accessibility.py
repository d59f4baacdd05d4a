"""Every main page passes axe-core with no serious or critical violation, for each role.

axe-core is vendored under tests/browser/vendor/axe-core/ (from the npm registry; its README
names the version). The site's Content-Security-Policy allows no inline script, so the test's
browser context bypasses the CSP to inject axe; the pages themselves are unchanged.

One demo is seeded and every role's main pages are opened in it, as that person reaches them
(the ids come from the links on their own pages); a failure lists every violation found on every
page, with the rule, its help and the elements it names.
"""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from playwright.sync_api import expect

from demo.story import DEMO_PASSWORD
from leads.models import WebForm
from tests.factories import SAMPLE_DATA

from .conftest import VIEWPORT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
EXPORT = SAMPLE_DATA / "salesforce_leads_export.csv"
# Each role's main pages: a path, or (a path to open, a CSS selector for the link on it that
# leads to the page to check). Ids come from the person's own pages, as they would click.
PAGES: dict[str, list] = {
    "": ["/login/", "web form"],
    "lena": [
        "/queue/",
        ("/queue/", "queue item"),
        "/leads/",
        ("/leads/", "table a[href^='/leads/'][href$='/']"),
        ("/queue/", "composer"),
        "/mail/mailbox/",
        "/mail/templates/",
        "/mail/templates/new/",
        "/insight/",
        "/account/tokens/",
    ],
    "tom": ["/targets/", ("/targets/", "table a[href^='/targets/']"), "/queue/"],
    "alex": [
        "/inbox/",
        "/pipeline/",
        "/pipeline/?view=list",
        ("/pipeline/?view=list", "a[href^='/opportunities/'][href$='/']"),
        "/insight/",
        "/account/tokens/",
    ],
    "casey": [
        "/renewals/",
        ("/renewals/", "a.rn-account"),
        ("/renewals/", "a.rn-contract"),
        "/insight/retention/",
    ],
    "maria": [
        "/queue/",
        "/work/breaches/",
        "/opportunities/early-losses/",
        "/teams/",
        "/leads/",
        "/leads/imports/",
        "an import's mapping",
        "an import",
        "/contracts/import/",
        "/insight/",
        "/insight/funnel/",
        "/insight/money/",
        "/insight/speed/",
        "/insight/retention/",
        "/insight/summary/",
        "/pipeline/",
    ],
    "mo": ["/leads/", "/leads/imports/", "/insight/", "/insight/funnel/"],
}
# And the pages a phone is enough for, at 390 px with the top bar's menu open.
PHONE_PAGES: dict[str, list] = {
    "lena": ["/queue/", ("/queue/", "a.q-name")],
    "alex": ["/inbox/"],
    "casey": ["/renewals/"],
}

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter(v => ['serious', 'critical'].includes(v.impact)).map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 6).map(n => n.target.join(' ') + ' | ' + n.failureSummary.replace(/\\s+/g, ' ').slice(0, 220)),
    more: Math.max(0, v.nodes.length - 6),
  }));
}"""


def _target(page, base: str, how: str) -> str:
    """The URL a person would open from ``base`` by the link ``how`` names."""
    if how == "queue item":
        item = page.locator("li.q-row").first.get_attribute("id").removeprefix("item-")
        return f"{base}/queue/items/{item}/"
    if how == "composer":
        return page.locator("a[data-action=email]").first.get_attribute("href")
    return page.locator(how).first.get_attribute("href")


def _check(browser, base: str, username: str, paths: list, viewport: dict, found: list[str]) -> int:
    """Open ``paths`` as ``username`` and add axe's serious and critical violations to ``found``;
    returns how many pages were checked. On a phone the top bar's menu is opened first."""
    # bypass_csp: only so that axe itself can be injected as an inline script.
    context = browser.new_context(viewport=viewport, locale="en-US", bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    if username:
        page.goto(f"{base}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        assert "/login/" not in page.url, username
    checked = 0
    for entry in paths:
        if entry == "web form":
            url = f"{base}/f/{WebForm.objects.get(name='Website demo request').key}/"
        elif entry == "an import's mapping":  # a file uploaded, waiting for its mapping
            page.goto(f"{base}/leads/imports/")
            page.set_input_files("#id_file", str(EXPORT))
            page.get_by_role("button", name="Upload and map columns").click()
            page.wait_for_url(re.compile(r"/leads/imports/\d+/mapping/$"))
            url = page.url
        elif entry == "an import":  # the demo has none: upload one, as marketing would
            page.goto(f"{base}/leads/imports/")
            page.set_input_files("#id_file", str(EXPORT))
            page.get_by_role("button", name="Upload and map columns").click()
            page.wait_for_url(re.compile(r"/leads/imports/\d+/mapping/$"))
            page.get_by_role("button", name="Import", exact=True).click()
            page.wait_for_url(re.compile(r"/leads/imports/\d+/$"))
            expect(page.locator("#import-state")).to_have_text("Done", timeout=30_000)
            url = page.url
        elif isinstance(entry, tuple):
            page.goto(f"{base}{entry[0]}")
            href = _target(page, base, entry[1])
            assert href, (username, entry)
            url = href if href.startswith("http") else f"{base}{href}"
        else:
            url = f"{base}{entry}"
        response = page.goto(url)
        assert response.status == 200, (username, url, response.status)
        page.wait_for_load_state("networkidle")
        where = f"{username or '(signed out)'} {url.removeprefix(base)}"
        if viewport["width"] < 700 and username:
            page.locator("header.topbar summary").click()
            where += f" at {viewport['width']} px, menu open"
        page.add_script_tag(path=str(AXE))
        checked += 1
        for violation in page.evaluate(RUN_AXE):
            lines = "\n      ".join(violation["nodes"])
            more = f"\n      … and {violation['more']} more" if violation["more"] else ""
            found.append(
                f"{where}: {violation['impact']} {violation['id']} ({violation['help']})\n      {lines}{more}"
            )
    context.close()
    return checked


@time_machine.travel(datetime(2026, 12, 7, 14, 30, tzinfo=UTC), tick=True)
def test_every_main_page_has_no_serious_or_critical_violation(browser, live_server, settings):
    call_command("seed_demo", leads=40, verbosity=0)
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the upload's import runs in the live server's request
    found: list[str] = []
    checked = sum(
        _check(browser, live_server.url, user, paths, VIEWPORT, found) for user, paths in PAGES.items()
    )
    checked += sum(
        _check(browser, live_server.url, user, paths, {"width": 390, "height": 844}, found)
        for user, paths in PHONE_PAGES.items()
    )
    assert checked >= 45
    assert not found, f"{len(found)} serious or critical accessibility violations:\n" + "\n".join(found)
