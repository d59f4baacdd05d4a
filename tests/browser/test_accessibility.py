"""Every main page passes axe-core with no serious or critical violation, for each role.

axe-core is vendored under tests/browser/vendor/axe-core/ (from the npm registry; its README
names the version). The site's Content-Security-Policy allows no inline script, so the test's
browser context bypasses the CSP to inject axe; the pages themselves are unchanged.

One demo is seeded and every role's main pages are opened in it, as that person reaches them
(the ids come from the links on their own pages); a failure lists every violation found on every
page, with the rule, its help and the elements it names.
"""

from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from demo.story import DEMO_PASSWORD
from leads.models import WebForm

from .conftest import VIEWPORT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
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
        ("/leads/imports/", "table a[href^='/leads/imports/']"),
        "/contracts/import/",
        "/insight/",
        ("/insight/", "nav a[href^='/insight/'][href$='/']"),
        "/insight/funnel/",
        "/insight/retention/",
        "/insight/summary/",
        "/pipeline/",
    ],
    "mo": ["/leads/", "/leads/imports/", "/insight/", "/insight/funnel/"],
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


@time_machine.travel(datetime(2026, 12, 7, 14, 30, tzinfo=UTC), tick=True)
def test_every_main_page_has_no_serious_or_critical_violation(browser, live_server):
    call_command("seed_demo", leads=40, verbosity=0)
    base = live_server.url
    found: list[str] = []
    checked = 0
    for username, paths in PAGES.items():
        # bypass_csp: only so that axe itself can be injected as an inline script.
        context = browser.new_context(viewport=VIEWPORT, locale="en-US", bypass_csp=True)
        context.set_default_timeout(10_000)
        page = context.new_page()
        if username:
            page.goto(f"{base}/login/")
            page.fill("#id_username", username)
            page.fill("#id_password", DEMO_PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_load_state()
            assert "/login/" not in page.url, username
        for entry in paths:
            if entry == "web form":
                url = f"{base}/f/{WebForm.objects.get(name='Website demo request').key}/"
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
            page.add_script_tag(path=str(AXE))
            checked += 1
            for violation in page.evaluate(RUN_AXE):
                lines = "\n      ".join(violation["nodes"])
                more = f"\n      … and {violation['more']} more" if violation["more"] else ""
                found.append(
                    f"{username or '(signed out)'} {url.removeprefix(base)}: {violation['impact']} {violation['id']}"
                    f" ({violation['help']})\n      {lines}{more}"
                )
        context.close()
    assert checked >= 40
    assert not found, f"{len(found)} serious or critical accessibility violations:\n" + "\n".join(found)
