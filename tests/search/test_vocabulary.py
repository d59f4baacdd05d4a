"""The search vocabulary that corrects typos (search.vocabulary): what joins it and when, and
what it suggests. PostgreSQL only: SQLite has no typo tolerance."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from accounts.models import Account
from search import vocabulary
from search.models import Word
from tests.factories import LeadFactory

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the vocabulary is PostgreSQL's")

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def words() -> set[str]:
    return set(Word.objects.values_list("word", flat=True))


@pytest.mark.django_db
def test_a_rebuild_holds_every_word_of_every_document_and_nothing_else():
    LeadFactory(
        first_name="Margaret", last_name="O'Neill", company="Bright Systems GmbH", email="mo@bright.example"
    )
    Account.objects.create(name="Harbor Logistics", domain="harbor.example")
    Word.objects.create(word="obsolete")
    assert vocabulary.rebuild() == len(words())
    assert {"margaret", "neill", "bright", "systems", "gmbh", "harbor", "logistics", "example"} <= words()
    assert "obsolete" not in words()  # nobody holds it any more
    assert "o" not in words() and "mo" not in words()  # fewer than three letters


@pytest.mark.django_db
def test_a_refresh_adds_the_words_of_leads_captured_lately_without_reading_older_ones():
    with time_machine.travel(NOW - timedelta(hours=2), tick=False):
        LeadFactory(first_name="Oldname", email="old@x.example")
    with time_machine.travel(NOW - timedelta(minutes=3), tick=False):
        LeadFactory(first_name="Newname", email="new@x.example")
    with time_machine.travel(NOW, tick=False):
        vocabulary.refresh()
    assert "newname" in words()
    assert "oldname" not in words()  # the nightly rebuild takes it
    vocabulary.rebuild()
    assert "oldname" in words()


@pytest.mark.django_db
def test_corrections_are_for_unknown_words_only_best_first():
    for word in ("systems", "system", "margaret", "analytics"):
        Word.objects.create(word=word)
    found = vocabulary.corrections(["sistems", "margaret", "zzzqqq"])
    assert found["sistems"][0] in ("systems", "system")
    assert set(found["sistems"]) <= {"systems", "system"}
    assert "margaret" not in found  # known: looked for as typed
    assert found["zzzqqq"] == []  # nothing close: looked for as typed
