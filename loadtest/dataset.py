"""The load test's data set: a sales floor of about a thousand people on a million leads.

Built once into a template database of the load test's own cluster (``loadtest/pg.py``) and
kept; each run copies it (``CREATE DATABASE ... TEMPLATE``), so every run starts from the same
state in seconds. The template's comment records ``VERSION``, the size and the migrations it
was built at: a run rebuilds it when any of them changed.

The data come from the bench's generators (``bench/insight/data.py``: the queues generator's
leads, SDR teams, open timers, follow-ups, history and activity; the opportunities generator's
AE teams, accounts and opportunities in every stage; insight's events, touches, campaigns and
contracts with an AM team), with the floor's head counts instead of the figures' small teams:

- 600 inbound SDRs in the queues generator's 8 teams (75 each instead of 25), 50 open
  first-touch timers each as in the queues figure, and the leads spread over all of them;
- 200 AEs in the opportunities generator's 4 teams (50 each instead of 10);
- 120 AMs in one account-management team holding the generated contracts;
- 13 managers, one per team (a manager sees the teams they manage, ``team.access``): the 50
  manager sessions of the load test share them, so a manager's pages cover a whole team of
  up to 75 reps, not a first-line manager's dozen (pessimistic);
- 30 marketing/ops people, and 10 integration service accounts for the API clients;
- a public web form on a campaign.

The mix (60% SDRs, 20% AEs, 12% AMs, 5% managers, 3% marketing) is a typical sales floor's
ratio of about 3 SDRs per AE, an AM per 5 reps and a manager per 15-20 people.

Sessions and API tokens are made per run (``make_credentials``) in the run's database: the
load test does not log 1,000 people in through the login form (its throttle would refuse them
from one address, and the password hashing would be the first minute's whole load).
"""

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

VERSION = 1  # bump when the data set changes: a run rebuilds its template
SDRS_PER_TEAM = 75  # x 8 teams = 600
OPEN_TIMERS_PER_SDR = 50
AES_PER_TEAM = 50  # x 4 teams = 200
AMS = 120
MARKETING = 30
INTEGRATIONS = 10
PASSWORD = "load-test-password"  # every account's; a run's sessions and tokens are made from it


def migrations_fingerprint() -> str:
    """A digest of every migration file: a template built before a new migration is stale."""
    digest = hashlib.sha256()
    for path in sorted(BASE_DIR.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(BASE_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def template_label(leads: int) -> str:
    return f"loadtest v{VERSION} leads={leads} migrations={migrations_fingerprint()}"


def open_timers(queue_leads: int, sdrs: int) -> int:
    """The open first-touch timers the queues generator makes: up to 50 per SDR, the total a
    divisor of its leads with a stride of 10 leads at least (its rule)."""
    for per_sdr in range(OPEN_TIMERS_PER_SDR, 0, -1):
        total = per_sdr * sdrs
        if queue_leads % total == 0 and queue_leads // total >= 10:
            return total
    raise ValueError(f"no open-timer count fits {queue_leads} leads and {sdrs} SDRs")


def _setup() -> None:
    """Django on the bench's production-like variables (``bench.env``), except those the
    caller set: the runner's processes must share its secret key (the sessions are signed)."""
    from bench import env

    inherited = dict(os.environ)
    env.apply_env()
    os.environ.update({k: v for k, v in inherited.items() if k in env.BENCH_ENV})
    import django

    django.setup()


def build(leads: int, log=print) -> dict:
    """Generate the data set into ``REFINERY_BENCH_DB`` (dropped and migrated first) on the
    server ``REFINERY_BENCH_PG``. Returns its counts."""
    from bench import env

    _setup()
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from bench.insight import data as insight_data
    from bench.opportunities import data as opportunities_data
    from bench.queues import data as queues_data
    from leads.models import Campaign, Channel, WebForm
    from team.models import Role, User

    # The floor's head counts, through the generators' own constants (read when they run).
    queues_data.REPS_PER_TEAM = SDRS_PER_TEAM
    sdrs = SDRS_PER_TEAM * len(queues_data.TEAMS)
    queues_data.OPEN_TIMERS = open_timers(leads - leads // 10, sdrs)
    opportunities_data.AES_PER_TEAM = AES_PER_TEAM
    insight_data.AMS = AMS

    log(f"dataset: migrating {env.DB_NAME} on {env.PG_ADDRESS}")
    env.recreate_database()
    data = insight_data.generate(leads, log=log)
    log("dataset: marketing, integrations, the web form, one password for everyone")
    User.objects.bulk_create(
        User(
            username=f"load-marketing-{n:02d}", first_name=f"Marketer{n}", last_name="Load",
            email=f"marketing{n}@refinery.example", role=Role.MARKETING, password="!",
        )
        for n in range(MARKETING)
    )  # fmt: skip
    User.objects.bulk_create(
        User(
            username=f"load-integration-{n:02d}", first_name="Integration", last_name=str(n),
            email=f"integration{n}@refinery.example", role=Role.INTEGRATION, password="!",
        )
        for n in range(INTEGRATIONS)
    )  # fmt: skip
    campaign = Campaign.objects.create(
        name="Load test web form", channel=Channel.WEB, starts_on=timezone.now().date()
    )
    WebForm.objects.create(name="Contact us (load test)", campaign=campaign, key="loadtest-contact-us")
    # One hash for everyone: hashing 1,000 passwords would take minutes and test nothing.
    User.objects.update(password=make_password(PASSWORD))
    with env.connect() as conn:
        for table in ("team_user", "leads_campaign", "leads_webform"):
            conn.execute(f"VACUUM ANALYZE {table}")
        conn.execute("CHECKPOINT")
    settle(log)
    counts = dict(data.counts)
    counts["people"] = {role: User.objects.filter(role=role, is_active=True).count() for role in Role.values}
    return counts


def settle(log=print) -> None:
    """Build what the periodic tasks otherwise build on their first run (the insight facts,
    the duplicate finder's keys, the search vocabulary): a production system has them, and a
    run that started without them would measure their first build, not the floor."""
    from bench import env
    from dedupe.tasks import rebuild_keys
    from insight.tasks import rebuild_facts
    from search.tasks import rebuild_vocabulary

    for name, task in (("insight facts", rebuild_facts), ("duplicate keys", rebuild_keys),
                       ("search vocabulary", rebuild_vocabulary)):  # fmt: skip
        log(f"dataset: {name}")
        task()
    with env.connect() as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")


def catch_up(log=print) -> None:
    """Run the incremental periodic tasks once, as beat has on a system that has been running:
    the data set's last rows were written minutes before its full rebuilds, inside the
    incremental runs' overlap, so the first run after a copy would re-read most of the leads
    (6 s for the person keys at a million leads) in the middle of a measured step."""
    from dedupe.tasks import refresh_keys
    from insight.tasks import refresh_facts
    from search.tasks import refresh_vocabulary

    for name, task in (("insight facts", refresh_facts), ("duplicate keys", refresh_keys),
                       ("search vocabulary", refresh_vocabulary)):  # fmt: skip
        log(f"dataset: catching up: {name}")
        task()


def make_credentials(out: Path) -> dict:
    """In the run's database (``REFINERY_BENCH_DB``): a session for every active person and a
    token for every integration, written to ``out`` as the locustfile reads them: role ->
    [{"user": id, "session": key}], "tokens": [...], "web_form": key, plus what the tasks
    need to know (the AE teams' ids, the stages)."""
    _setup()
    credentials = credentials_for_run()
    out.write_text(json.dumps(credentials))
    return {role: len(v) for role, v in credentials["people"].items()} | {
        "tokens": len(credentials["tokens"])
    }


def credentials_for_run() -> dict:
    """The sessions and tokens of ``make_credentials``, in the current database."""
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from leads.models import WebForm
    from team.models import ApiToken, Role, Team, User
    from team.tokens import issue_token

    Session.objects.all().delete()
    ApiToken.objects.all().delete()
    backend = settings.AUTHENTICATION_BACKENDS[0]
    expire = timezone.now() + timedelta(days=7)
    people: dict[str, list[dict]] = {}
    sessions = []
    store = SessionStore()
    for user in User.objects.filter(is_active=True).exclude(role=Role.INTEGRATION).order_by("pk"):
        key = store._get_new_session_key()
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: backend,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        sessions.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
        role = user.role
        if role == Role.MANAGER and not Team.objects.filter(manager=user).exists():
            continue  # a manager of no team sees no breach: not one of the floor's managers
        people.setdefault(role, []).append({"user": user.pk, "username": user.username, "session": key})
    Session.objects.bulk_create(sessions, batch_size=1000)
    tokens = [
        issue_token(user=user, name="load test")[1] for user in User.objects.filter(role=Role.INTEGRATION)
    ]
    form = WebForm.objects.filter(is_active=True).order_by("pk")
    web_form = form.filter(key="loadtest-contact-us").first() or form.first()
    return {
        "people": people,
        "tokens": tokens,
        "web_form": web_form.key if web_form else "",
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--leads", type=int, required=True)
    sub.add_parser("settle")
    sub.add_parser("catch-up")
    c = sub.add_parser("credentials")
    c.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if "REFINERY_BENCH_DB" not in os.environ:
        raise SystemExit("set REFINERY_BENCH_DB (and REFINERY_BENCH_PG): the runner does")
    if args.command == "build":
        result = build(args.leads, log=lambda m: print(m, file=sys.stderr, flush=True))
    elif args.command == "settle":
        _setup()
        settle(log=lambda m: print(m, file=sys.stderr, flush=True))
        result = {}
    elif args.command == "catch-up":
        _setup()
        catch_up(log=lambda m: print(m, file=sys.stderr, flush=True))
        result = {}
    else:
        result = make_credentials(args.out)
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
