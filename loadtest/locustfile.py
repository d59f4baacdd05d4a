"""The mixed load: a sales floor's people at their own pace, against a running Refinery.

    locust -f loadtest/locustfile.py --host http://127.0.0.1:8000   # LOADTEST_CREDENTIALS=...

Every person acts about every 30 seconds (``between(20, 40)`` after each action), one page or
one post at a time, through the real pages, forms and CSRF as a browser sends them (the forms
are read from the pages, ``loadtest/forms.py``). Each action is one Locust request name, so
the statistics are per action:

- SDRs (``sdr:``): open the queue, open a lead from it, then log a touch (60%), write and send
  an email (25%) or qualify and hand the lead off to an AE (15%).
- AEs (``ae:``): the inbox, accept (80%) or reject a handoff waiting there; the pipeline, an
  opportunity, move it a stage on.
- AMs (``am:``): the renewals page, a contract, log a conversation, record an outcome (30%).
- managers (``manager:``): the breach review, the team queues, the insight overview and a section.
- marketing (``marketing:``): the lead list, the insight overview, the imports page; one of
  them (``import:``) uploads a small CSV every 3 minutes, maps it and imports it for real.
- the public web form (``webform:``) at ``LOADTEST_WEBFORM_RATE`` posts per second, and API
  clients (``api:``) capturing leads and reading campaigns at ``LOADTEST_API_RATE`` per second.

The people are real accounts of the load test's data set (``loadtest/dataset.py``); their
sessions and the integrations' tokens come from ``LOADTEST_CREDENTIALS`` (a JSON file the
runner writes). The class weights are the data set's head counts, so ``-u 1000`` plays the
floor's mix; more users than accounts of a role share accounts (a person with two tabs).
"""

import itertools
import json
import os
import random
import re
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import gevent
from locust import HttpUser, between, constant_pacing, constant_throughput, events, task

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtest.forms import find_form

CREDENTIALS: dict = json.loads(Path(os.environ["LOADTEST_CREDENTIALS"]).read_text())
WEBFORM_RATE = float(os.environ.get("LOADTEST_WEBFORM_RATE", "5"))
API_RATE = float(os.environ.get("LOADTEST_API_RATE", "2"))
IMPORT_EVERY = float(os.environ.get("LOADTEST_IMPORT_SECONDS", "120"))
IMPORT_ROWS = int(os.environ.get("LOADTEST_IMPORT_ROWS", "200"))
RUN = os.environ.get("LOADTEST_RUN", uuid.uuid4().hex[:8])  # new emails each run

# The tests' knobs: waits scaled down (0.01: a hundred times faster), and one user per class.
PACE = float(os.environ.get("LOADTEST_PACE", "1"))
ONE_EACH = os.environ.get("LOADTEST_ONE_EACH") == "1"

_accounts: dict[str, Iterator[dict]] = {}


def next_account(role: str) -> dict:
    """The next account of ``role``, round robin: each user of a class is another person."""
    if role not in _accounts:
        people = list(CREDENTIALS["people"].get(role, []))
        if not people:
            raise RuntimeError(f"no {role} in the credentials")
        random.Random(role).shuffle(people)
        _accounts[role] = itertools.cycle(people)
    return next(_accounts[role])


ITEM_RE = re.compile(r'id="item-(\d+)" data-lead-url="[^"]*?/leads/(\d+)/')
ACCEPT_RE = re.compile(r'action="/opportunities/(\d+)/accept/"')
OPPORTUNITY_RE = re.compile(r'href="/opportunities/(\d+)/"')
CONTRACT_RE = re.compile(r'href="/contracts/(\d+)/"')
IMPORT_RE = re.compile(r"/leads/imports/(\d+)/")


TAG_RE = re.compile(r"<[^>]+>")
ERROR_RE = re.compile(r'class="[^"]*(?:error|errorlist|notice-error|refused)[^"]*"[^>]*>(.*?)</', re.S)


def why(html: str) -> str:
    """What a refused form says (its first error), else the start of the page's text."""
    found = ERROR_RE.search(html)
    text = found.group(1) if found else html.split("<main", 1)[-1]
    return " ".join(TAG_RE.sub(" ", text).split())[:160]


class Person(HttpUser):
    """A signed-in person: their session cookie is set before the first page, as after a
    login earlier in the day. Each ``flow`` step is one action, then the wait."""

    abstract = True
    role = ""
    wait_time = between(20 * PACE, 40 * PACE)

    def on_start(self) -> None:
        self.account = next_account(self.role)
        # No domain: the cookie jar would not send one set for "localhost" (it compares
        # "localhost.local"); the session goes to the one host under test.
        self.client.cookies.set(CREDENTIALS["session_cookie"], self.account["session"])
        self._flow = self.flow()
        # People arrive over their first wait, not all at the moment they are spawned.
        gevent.sleep(random.uniform(0, 30 * PACE))

    def flow(self) -> Iterator[None]:
        raise NotImplementedError

    @task
    def act(self) -> None:
        next(self._flow)

    # -- the browser's mechanics -------------------------------------------------------------

    def page(self, url: str, name: str) -> str:
        """GET a page as a browser does (following a redirect, in the action's time); its
        HTML ("" when it failed, which the stats count)."""
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
                return ""
            if "/login/" in response.url:
                response.failure("signed out: the login page")
                return ""
            return response.text

    def post(
        self, url: str, data: dict, name: str, *, htmx: bool = False, files=None, conflict_ok: bool = False
    ) -> bool:
        """POST a form as the browser does (the CSRF token from its cookie too). A redirect or
        a 2xx is success; anything else is counted against the action with its status."""
        headers = {"X-CSRFToken": self.client.cookies.get("csrftoken", ""), "Referer": self.host + url}
        if htmx:
            headers["HX-Request"] = "true"
        with self.client.post(
            url,
            data=data,
            files=files,
            headers=headers,
            name=name,
            catch_response=True,
            allow_redirects=False,
        ) as response:
            if response.status_code == 409 and conflict_ok:
                # Answered meanwhile (a teammate took the handoff from the shared inbox): the
                # page says so, as it should; counted apart, not as an error.
                response.request_meta["name"] = f"{name} (409: already answered)"
                response.success()
                return False
            if response.status_code not in (200, 201, 204, 301, 302, 303):
                response.failure(f"{response.status_code}: {why(response.text)}")
                return False
            return True


class Sdr(Person):
    role = "inbound_sdr"
    weight = 600

    def flow(self) -> Iterator[None]:
        while True:
            html = self.page("/queue/", "sdr: queue")
            yield
            rows = ITEM_RE.findall(html)
            if not rows:
                continue
            item, lead = random.choice(rows)
            self.page(f"/leads/{lead}/", "sdr: lead")
            yield
            choice = random.random()
            if choice < 0.60:
                self.post(
                    f"/queue/items/{item}/touch/",
                    {
                        "kind": random.choice(["call", "call", "email", "voicemail", "social"]),
                        "note": "load test",
                    },
                    "sdr: log touch",
                    htmx=True,
                )
                yield
            elif choice < 0.85:
                url = f"/mail/compose/?lead={lead}&next=/queue/"
                html = self.page(url, "sdr: compose email")
                yield
                form = find_form(html, action_contains="/mail/compose/")
                if form is None:
                    continue
                data = form.values(subject="Following up", body="Hello, a short note from the load test.")
                data["action"] = "send"
                self.post(form.action or url, data, "sdr: send email")
                yield
            else:
                url = f"/leads/{lead}/hand-off/?from=queue"
                html = self.page(url, "sdr: hand-off form")
                yield
                form = find_form(html, action_contains="/hand-off/")
                if form is None:
                    continue
                data = form.values(
                    budget="confirmed", authority="partly", need="confirmed", timing="partly",
                    need_note="Needs a faster way to route inbound leads.",
                )  # fmt: skip
                self.post(form.action or url, data, "sdr: hand off")
                yield


class Ae(Person):
    role = "ae"
    weight = 200

    def flow(self) -> Iterator[None]:
        while True:
            html = self.page("/inbox/", "ae: inbox")
            yield
            waiting = ACCEPT_RE.findall(html)
            if waiting:
                opportunity = random.choice(waiting)
                reject = find_form(html, action_contains=f"/opportunities/{opportunity}/reject/")
                if random.random() < 0.8 or reject is None:
                    self.post(
                        f"/opportunities/{opportunity}/accept/", {}, "ae: accept handoff", conflict_ok=True
                    )
                else:
                    data = reject.values(
                        reason=_first_real(reject, "reason"), note="Too small for us: no budget."
                    )
                    self.post(
                        f"/opportunities/{opportunity}/reject/", data, "ae: reject handoff", conflict_ok=True
                    )
                yield
            html = self.page("/pipeline/", "ae: pipeline")
            yield
            opportunities = OPPORTUNITY_RE.findall(html)
            if not opportunities:
                continue
            opportunity = random.choice(opportunities)
            html = self.page(f"/opportunities/{opportunity}/", "ae: opportunity")
            yield
            form = find_form(html, form_id="move")
            if form is None:
                continue
            stages = form.options.get("stage", [])
            current = form.fields.get("stage")
            if current not in stages or stages.index(current) + 1 >= len(stages):
                continue
            data = form.values(stage=stages[stages.index(current) + 1])
            self.post(form.action, data, "ae: move stage")
            yield


def _first_real(form, name: str) -> str:
    """The first option of a select that is a value, not its "Choose…" prompt."""
    if form is None:
        return ""
    return next((v for v in form.options.get(name, []) if v), "")


class Am(Person):
    role = "am"
    weight = 120

    def flow(self) -> Iterator[None]:
        while True:
            html = self.page("/renewals/", "am: renewals")
            yield
            contracts = CONTRACT_RE.findall(html)
            if not contracts:
                continue
            contract = random.choice(contracts)
            html = self.page(f"/contracts/{contract}/", "am: contract")
            yield
            form = find_form(html, action_contains="/conversation/")
            if form is not None:
                data = form.values(note="Spoke to the champion: renewal on track, wants a seat count review.")
                self.post(form.action, data, "am: log conversation")
                yield
            if random.random() < 0.3:
                form = find_form(html, action_contains="/outcome/")
                if form is not None:
                    self.post(form.action, form.values(outcome="renewed"), "am: record outcome")
                    yield


class Manager(Person):
    role = "manager"
    weight = 50

    def flow(self) -> Iterator[None]:
        sections = ["funnel", "speed", "money", "retention"]
        while True:
            self.page("/work/breaches/", "manager: breach review")
            yield
            self.page("/teams/", "manager: team queues")
            yield
            self.page("/insight/", "manager: insight overview")
            yield
            self.page(f"/insight/{random.choice(sections)}/", "manager: insight section")
            yield


class Marketing(Person):
    role = "marketing"
    weight = 29

    def flow(self) -> Iterator[None]:
        while True:
            self.page("/leads/", "marketing: lead list")
            yield
            self.page("/insight/", "marketing: insight overview")
            yield
            self.page("/leads/imports/", "marketing: imports")
            yield


def import_csv(rows: int) -> bytes:
    """A small export from a trade show's scanner: new people each run."""
    lines = ["First Name,Last Name,Email,Company,Title,Country,Employees"]
    stamp = f"{RUN}{int(time.time())}"
    for n in range(rows):
        lines.append(f"Ada{n},Lovelace,ada.{stamp}.{n}@show{n % 40}.example,Show Co {n % 40},CTO,DE,250")
    return ("\n".join(lines) + "\n").encode()


class Importer(Person):
    """One of marketing: an import through the pages every few minutes."""

    role = "marketing"
    fixed_count = 1
    wait_time = constant_pacing(IMPORT_EVERY * PACE)

    def on_start(self) -> None:
        super().on_start()
        self._flow = self.flow()  # from the start: the upload first

    def flow(self) -> Iterator[None]:
        while True:
            html = self.page("/leads/imports/", "import: imports page")
            form = find_form(html, action_contains="/leads/imports/")
            data = form.values() if form else {}
            headers = {"X-CSRFToken": self.client.cookies.get("csrftoken", ""), "Referer": self.host}
            files = {"file": ("trade-show.csv", import_csv(IMPORT_ROWS), "text/csv")}
            with self.client.post(
                "/leads/imports/", data=data, files=files, headers=headers, name="import: upload",
                catch_response=True, allow_redirects=False,
            ) as response:  # fmt: skip
                found = IMPORT_RE.search(response.headers.get("Location", ""))
                if response.status_code != 302 or not found:
                    where = response.headers.get("Location", "")
                    response.failure(f"{response.status_code} {where}: {why(response.text)}")
                    yield
                    continue
            job = found.group(1)
            html = self.page(f"/leads/imports/{job}/mapping/", "import: mapping")
            form = find_form(html, action_contains="/mapping/")
            if form is None:
                yield
                continue
            data = form.values()
            if form.buttons:
                data.setdefault(*form.buttons[-1])
            self.post(form.action, data, "import: check (dry run)")
            # The dry run's report, then the real import.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                html = self.page(f"/leads/imports/{job}/", "import: status")
                form = find_form(html, action_contains="/for-real/")
                if form is not None:
                    self.post(form.action, form.values(), "import: for real")
                    break
                time.sleep(max(0.2, 2 * PACE))
            yield


class WebForm(HttpUser):
    """The public form on the marketing site: a new person each post, from varied addresses."""

    fixed_count = 1
    wait_time = constant_throughput(WEBFORM_RATE)

    def on_start(self) -> None:
        self.key = CREDENTIALS["web_form"]
        self.count = 0

    @task
    def submit(self) -> None:
        self.count += 1
        data = {
            "email": f"visitor.{RUN}.{id(self) % 10_000}.{self.count}@company{self.count % 500}.com",
            "first_name": "Grace",
            "company": "Hopper Analytics",
            "title": "VP of Sales",
            "country": random.choice(["US", "DE", "GB", "FR", "JP", "BR"]),
            "employees": random.choice(["50", "250", "1,200", "5000"]),
        }
        with self.client.post(
            f"/f/{self.key}/", data=data, headers={"Accept": "application/json"}, name="webform: submit",
            catch_response=True, allow_redirects=False,
        ) as response:  # fmt: skip
            if response.status_code not in (200, 201, 202, 302, 303):
                response.failure(f"{response.status_code}")


class ApiClient(HttpUser):
    """Integrations (marketing automation) capturing leads and reading campaigns by token."""

    fixed_count = 1
    wait_time = constant_throughput(API_RATE)

    def on_start(self) -> None:
        self.tokens = itertools.cycle(CREDENTIALS["tokens"])
        self.count = 0

    @task(4)
    def capture(self) -> None:
        self.count += 1
        body = {
            "email": f"api.{RUN}.{self.count}@partner{self.count % 300}.example",
            "first_name": "Alan",
            "last_name": "Turing",
            "company": f"Partner {self.count % 300}",
            "country": "GB",
        }
        self.client.post(
            "/api/v1/leads/", json=body, headers={"Authorization": f"Token {next(self.tokens)}"},
            name="api: capture lead",
        )  # fmt: skip

    @task(1)
    def campaigns(self) -> None:
        self.client.get(
            "/api/v1/campaigns/", headers={"Authorization": f"Token {next(self.tokens)}"},
            name="api: campaigns",
        )  # fmt: skip


if ONE_EACH:
    Sdr.weight = Ae.weight = Am.weight = Manager.weight = Marketing.weight = 1


@events.init_command_line_parser.add_listener
def _(parser) -> None:  # pragma: no cover - only a hook for locust's own --help
    parser.description = __doc__
