"""The remembered answers (``insight.answers``): a page asked again is served without its
statements over the facts, with the very numbers it showed; a change of the facts shows at
once; an idle refresh keeps what was remembered; the worker answers the recent questions again
after a change; each viewer's question is remembered apart; nothing is kept before the facts
were ever computed. Against the real cache (Redis when ``REDIS_URL`` is set)."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from insight import answers, facts, funnel, speed, tasks
from insight.models import RefreshState
from insight.scope import Period, Scope, viewer_tz
from leads.models import ActivityKind
from sdr.services import log_touch
from team.models import Role
from tests.factories import TeamFactory, UserFactory, request_a_meeting

pytestmark = pytest.mark.django_db

MONDAY_9 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
NOW = MONDAY_9 + timedelta(days=3)
HOUR = timedelta(hours=1)


def at(moment):
    return time_machine.travel(moment, tick=False)


def november(user, **filters) -> Scope:
    return Scope.for_user(user, Period(date(2026, 11, 1), date(2026, 11, 30), viewer_tz(user)), **filters)


def facts_statements(queries) -> list[str]:
    return [q["sql"] for q in queries if "insight_leadfact" in q["sql"]]


@pytest.fixture
def leads(catch_all_rule, inbound_sdr):
    """Three hand-raisers routed to Sam on Monday; Sam touched the first two."""
    with at(MONDAY_9):
        captured = [request_a_meeting(f"buyer{i}@globex.example") for i in range(3)]
    for i, lead in enumerate(captured[:2]):
        with at(MONDAY_9 + (i + 1) * HOUR):
            log_touch(lead_id=lead.pk, by=inbound_sdr, kind=ActivityKind.CALL)
    with at(NOW):
        facts.rebuild()
    return captured


def cohort_counts(user) -> dict:
    return {row.key: row.count for row in funnel.cohort(november(user))}


def test_a_question_asked_again_is_answered_without_the_facts(leads, manager):
    with at(NOW):
        first = cohort_counts(manager)
        with CaptureQueriesContext(connection) as again:
            second = cohort_counts(manager)
    assert first == second
    assert (first["captured"], first["worked"]) == (3, 2)
    assert facts_statements(again.captured_queries) == []
    # The generation is the one statement left: the scope reads which facts it asks of.
    assert len(again.captured_queries) == 1


def test_a_change_of_the_facts_is_shown_at_once(leads, manager, inbound_sdr):
    with at(NOW):
        assert cohort_counts(manager)["worked"] == 2
        generation = RefreshState.objects.get().generation
        log_touch(lead_id=leads[2].pk, by=inbound_sdr, kind=ActivityKind.EMAIL)
        assert facts.refresh() == 1
        assert RefreshState.objects.get().generation == generation + 1
        assert cohort_counts(manager)["worked"] == 3


def test_an_idle_refresh_keeps_the_answers(leads, manager):
    with at(NOW):
        cohort_counts(manager)
        generation = RefreshState.objects.get().generation
        assert facts.refresh() == 0
        assert facts.rebuild() == 0
        assert RefreshState.objects.get().generation == generation
        with CaptureQueriesContext(connection) as again:
            cohort_counts(manager)
    assert facts_statements(again.captured_queries) == []


def test_the_worker_answers_recent_questions_again_after_a_change(leads, manager, inbound_sdr):
    with at(NOW):
        cohort_counts(manager)
        speed.speed(november(manager), by="rep")
        log_touch(lead_id=leads[2].pk, by=inbound_sdr, kind=ActivityKind.EMAIL)
        assert tasks.refresh_facts() == 1  # refreshes, then re-warms the two statements
        with CaptureQueriesContext(connection) as after:
            counts = cohort_counts(manager)
            (row, *_) = speed.speed(november(manager), by="rep")
    assert counts["worked"] == 3
    assert row.touches == 3
    assert facts_statements(after.captured_queries) == []


@pytest.mark.django_db(transaction=True)  # the run commits: another connection reads what it shows
def test_the_worker_answers_before_the_new_facts_are_visible(leads, manager, inbound_sdr, monkeypatch):
    """The run answers the recent questions inside its own transaction: when the new
    generation commits, its answers are already there (no view pays for them), computed from
    the new facts; the other connections saw the old generation until then."""
    seen = {}
    answers_prepare = answers.prepare

    def prepare(generation_next, **kwargs):
        seen["visible generation"] = _generation_elsewhere()
        return answers_prepare(generation_next, **kwargs)

    monkeypatch.setattr(answers, "prepare", prepare)
    with at(NOW):
        cohort_counts(manager)
        generation = RefreshState.objects.get().generation
        log_touch(lead_id=leads[2].pk, by=inbound_sdr, kind=ActivityKind.EMAIL)
        assert tasks.refresh_facts() == 1
        assert answers.rewarm() == 0  # nothing was left for after the commit
        with CaptureQueriesContext(connection) as after:
            counts = cohort_counts(manager)
    assert seen["visible generation"] == generation  # prepared before the commit
    assert _generation_elsewhere() == generation + 1
    assert counts["worked"] == 3
    assert facts_statements(after.captured_queries) == []


def _generation_elsewhere() -> int:
    """The generation as a page's connection reads it (committed data only)."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    address = {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432, "user": db["USER"]}
    with psycopg.connect(**address, dbname=connection.settings_dict["NAME"]) as other:
        return other.execute("SELECT generation FROM insight_refreshstate WHERE id = 1").fetchone()[0]


def test_answers_prepared_for_a_run_that_rolls_back_are_dropped(leads, manager, inbound_sdr, monkeypatch):
    """A run that fails after preparing leaves no answer behind: its generation number is
    used again by the next run, whose facts may differ."""
    real_refresh = facts.refresh

    def failing_refresh(now=None, before_commit=None):
        def then_fail(generation_next):
            before_commit(generation_next)
            raise RuntimeError("the connection dropped before the commit")

        return real_refresh(now, before_commit=then_fail)

    with at(NOW):
        assert cohort_counts(manager)["captured"] == 3
        log_touch(lead_id=leads[2].pk, by=inbound_sdr, kind=ActivityKind.EMAIL)
        monkeypatch.setattr(facts, "refresh", failing_refresh)
        with pytest.raises(RuntimeError):
            tasks.refresh_facts()
        monkeypatch.setattr(facts, "refresh", real_refresh)
        request_a_meeting("buyer9@globex.example")  # the next run's facts differ
        assert facts.refresh() == 2
        counts = cohort_counts(manager)
    assert (counts["captured"], counts["worked"]) == (4, 3)


def test_a_question_no_longer_asked_leaves_the_rewarm_list(leads, manager, inbound_sdr):
    with at(NOW):
        cohort_counts(manager)
        (asked,) = cache.get(answers.ASKED)
        cache.delete(asked)  # as when ASKED_FOR has passed without the question being asked
        log_touch(lead_id=leads[2].pk, by=inbound_sdr, kind=ActivityKind.EMAIL)
        facts.refresh()
        assert answers.rewarm() == 0
        # Read under the same clock: a cache in this process's memory expires by it.
        assert cache.get(answers.ASKED) == []


def test_each_viewer_gets_the_answer_to_their_own_question(leads, manager, inbound_sdr):
    zoe = UserFactory(username="zoe", role=Role.INBOUND_SDR, team=TeamFactory(name="Inbound US"))
    with at(NOW):
        assert cohort_counts(manager)["captured"] == 3
        assert cohort_counts(inbound_sdr)["captured"] == 3  # Sam's own leads, all of them
        assert cohort_counts(zoe)["captured"] == 0  # the same statement but for her rule
        assert cohort_counts(manager)["captured"] == 3
        narrowed = funnel.cohort(november(manager, sdr=zoe))  # a filter is another question
    assert narrowed[0].count == 0


def test_nothing_is_remembered_before_the_facts_were_computed(manager):
    assert not RefreshState.objects.exists()
    with CaptureQueriesContext(connection) as first:
        funnel.cohort(november(manager))
    with CaptureQueriesContext(connection) as second:
        funnel.cohort(november(manager))
    assert (
        len(facts_statements(first.captured_queries)) == len(facts_statements(second.captured_queries)) == 1
    )
    assert cache.get(answers.ASKED) is None


def test_the_page_served_from_memory_shows_the_same(client, leads, manager):
    client.force_login(manager)
    url = "/insight/funnel/?start=2026-11-01&end=2026-11-30"
    with at(NOW):
        first = client.get(url)
        with CaptureQueriesContext(connection) as again:
            second = client.get(url)
    assert first.status_code == second.status_code == 200
    shown = [[(table.title, table.rows) for table in page.context["tables"]] for page in (first, second)]
    assert shown[0] == shown[1]
    assert "Worked (first touch)" in first.content.decode()
    # The dropped leads depend on the time of the request: that list is always asked.
    assert all("status" in sql for sql in facts_statements(again.captured_queries))
