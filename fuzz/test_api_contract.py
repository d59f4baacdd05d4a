"""The API keeps its contract, for every role: schemathesis generates requests from the served
schema (/api/schema/) and sends them to the Django WSGI app in-process, as a user of each role
signed in with a token from /api/v1/auth/token/. Every answer must be no server error, a
status code the operation documents, and a body matching the documented schema.

Deterministic (hypothesis derandomized, the clock starts at a fixed instant) and bounded:
``FUZZ_EXAMPLES`` valid and ``FUZZ_NEGATIVE_EXAMPLES`` invalid requests per operation and role.
Each request runs in a savepoint rolled back after it, so each starts from the seeded data.
"""

import contextlib
import logging
import os
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from accounts.models import Account, Opportunity, Stage
from demo.story import DEMO_PASSWORD
from leads.models import Campaign, Lead
from renewals.models import Contract
from sdr.models import Cadence
from team.models import User
from work.models import Breach

ROLES = {
    "manager": "maria",
    "inbound SDR": "sam",
    "outbound SDR": "tom",
    "AE": "alex",
    "AM": "casey",
    "marketing": "mia",
    "marketing admin": "mo",
    "integration": "ina",
}
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
NEGATIVE_EXAMPLES = int(os.environ.get("FUZZ_NEGATIVE_EXAMPLES", "3"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]

# The objects behind each path's ids: generated ids are mostly unknown (a 404 is right, and
# dull), so a share of the requests name real rows, the caller's own first.
RESOURCES = {
    "leads": Lead,
    "queue": Lead,
    "campaigns": Campaign,
    "opportunities": Opportunity,
    "stages": Stage,
    "cadences": Cadence,
    "breaches": Breach,
    "contracts": Contract,
    "target-accounts": Account,
}
OWNER_FIELDS = {
    Lead: "owner",
    Opportunity: "owner",
    Account: "prospector",
    Contract: "account__account_manager",
}


class ServerErrors(logging.Handler):
    """The tracebacks of the server errors Django logs, to say where each 500 came from."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.last = ""

    def emit(self, record):
        if record.exc_info:
            self.last = "".join(traceback.format_exception(*record.exc_info)[-6:])


@dataclass
class Run:
    role: str
    requests: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    failures: dict = field(default_factory=dict)  # (operation, first line) -> details


def token_for(username: str) -> str:
    response = Client().post("/api/v1/auth/token/", {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def known_ids(path: str, user: User) -> list[int]:
    parts = path.split("/")
    model = RESOURCES.get(parts[3]) if len(parts) > 3 else None
    if model is None:
        return []
    rows = model.objects.order_by("pk")
    owner = OWNER_FIELDS.get(model)
    own = list(rows.filter(**{owner: user}).values_list("pk", flat=True)[:3]) if owner else []
    return own + [pk for pk in rows.values_list("pk", flat=True)[:4] if pk not in own]


def strategy_for(operation, user: User, mode: GenerationMode):
    names = [p.name for p in operation.path_parameters]
    strategies = [operation.as_strategy(generation_mode=mode)]
    if len(names) == 1 and mode == GenerationMode.POSITIVE:
        strategies += [
            operation.as_strategy(generation_mode=mode, path_parameters={names[0]: pk})
            for pk in known_ids(operation.path, user)
        ]
    return st.one_of(strategies)


def fuzz(operation, strategy, examples: int, headers: dict, run: Run, errors: ServerErrors) -> None:
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def send(case):
        run.requests[operation.label] += 1
        errors.last = ""
        try:
            with transaction.atomic():
                try:
                    response = case.call(headers=headers)
                    run.statuses[response.status_code] += 1
                    case.validate_response(response, checks=CHECKS, headers=headers)
                finally:
                    transaction.set_rollback(True)
        except (Exception, BaseExceptionGroup) as exc:  # a failed check: note it, and go on fuzzing
            text = str(exc).strip()
            lines = [line.strip() for line in text.splitlines()]
            what = [line for line in lines if line.startswith(("- ", "Received:"))][:2]
            key = (operation.label, " ".join(what) or type(exc).__name__)
            run.failures.setdefault(key, f"{text[:1500]}\n{errors.last}")

    # Unsatisfiable: nothing to make invalid (no parameters, no body); its valid requests were sent.
    with contextlib.suppress(Unsatisfiable):
        send()


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(ROLES))
def test_api_keeps_its_contract_for_every_role(role):
    from django.core.cache import cache

    cache.clear()  # throttles and rate limits start afresh for each role
    user = User.objects.get(username=ROLES[role])
    headers = {"Authorization": f"Token {token_for(user.username)}"}
    served = Client().get("/api/schema/?format=json", HTTP_AUTHORIZATION=headers["Authorization"])
    assert served.status_code == 200, served.content
    schema = schemathesis.openapi.from_dict(served.json())
    schema.app = WSGIHandler()  # built now: middleware reads the test settings when it is made
    run = Run(role)
    errors = ServerErrors()
    log = logging.getLogger("django.request")
    log.addHandler(errors)
    log.propagate = False  # the failures' report says where each 500 came from
    # As Django's test client does: the request signals must not close the test's connection
    # (and its transaction) after each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    started = time.monotonic()
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode, examples in (
                (GenerationMode.POSITIVE, EXAMPLES),
                (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES),
            ):
                if examples:
                    fuzz(operation, strategy_for(operation, user, mode), examples, headers, run, errors)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        log.removeHandler(errors)
        log.propagate = True
    elapsed = time.monotonic() - started
    print(
        f"\n{role}: {sum(run.requests.values())} requests to {len(run.requests)} operations "
        f"in {elapsed:.0f}s, {len(run.failures)} failures; answers: "
        + ", ".join(f"{code}: {n}" for code, n in sorted(run.statuses.items()))
    )
    report = "\n\n".join(f"{label}: {first}\n{details}" for (label, first), details in run.failures.items())
    assert not run.failures, f"{len(run.failures)} contract failures as {role}:\n\n{report}"
