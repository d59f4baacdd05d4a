"""Typo tolerance through a vocabulary, as the pg_trgm documentation suggests for large tables:
the distinct words of every searched document (``search.models.Word``), each query word not in it
corrected to the most similar words of it (a trigram index on a table of thousands of words),
and the corrected words then looked for exactly in the documents (``search.query``).

Why not compare the query with every document by similarity (pg_trgm's ``%>``)? On a million
leads, the common trigrams of a several-word query ("lyo", "sys", "ems") have posting lists of
hundreds of thousands of rows that the index must merge: 200 to 300 ms a search, measured in
``make bench``. Exact containment of each word is answered by intersecting those lists, and
the vocabulary lookup costs a millisecond.

Freshness: ``refresh`` adds the words of leads captured in the last ``RECENT`` (and of every
contact, account and opportunity, smaller tables) every five minutes; ``rebuild`` starts over nightly, so
words nobody uses any more go. A word written minutes ago is found exactly at once, and with a
typo after the next refresh. PostgreSQL only: SQLite searches by containment and has no typo
tolerance.
"""

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

RECENT = timedelta(minutes=15)
MIN_LETTERS = 3
MAX_LETTERS = 64  # Word.word's length: longer runs of letters are no words anyone types
SUGGESTIONS = 3  # corrections tried per unknown word
MIN_SIMILARITY = 0.35

# The texts whose words make the vocabulary: (table, columns, condition on recent rows or "").
_SOURCES = (
    ("leads_lead", ("first_name", "last_name", "company", "email"), "captured_at >= %(since)s"),
    ("accounts_contact", ("first_name", "last_name", "email"), ""),
    ("accounts_account", ("name", "domain"), ""),
    ("accounts_opportunity", ("name",), ""),
)


def _words_sql(recent: bool) -> str:
    texts = []
    for table, columns, condition in _SOURCES:
        where = f" WHERE {condition}" if recent and condition else ""
        texts += [f"SELECT {column} AS text FROM {table}{where}" for column in columns]
    # Distinct texts first (a million leads hold a few thousand names and companies), then words.
    return (
        "INSERT INTO search_word (word) SELECT DISTINCT word FROM ("
        " SELECT regexp_split_to_table(lower(text), '[^[:alpha:]]+') AS word FROM ("
        f" {' UNION '.join(texts)}) AS texts) AS words"
        f" WHERE length(word) BETWEEN {MIN_LETTERS} AND {MAX_LETTERS}"
        " ON CONFLICT (word) DO NOTHING"
    )


def rebuild() -> int:
    """Start the vocabulary over from every record; returns its size."""
    if connection.vendor != "postgresql":
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE search_word IN EXCLUSIVE MODE")  # one rebuild at a time; reads go on
        cursor.execute("DELETE FROM search_word")
        cursor.execute(_words_sql(recent=False))
        cursor.execute("SELECT count(*) FROM search_word")
        return cursor.fetchone()[0]


def refresh(now: datetime | None = None) -> int:
    """Add the words of recent leads and of every contact and account; returns how many were new."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_words_sql(recent=True), {"since": (now or timezone.now()) - RECENT})
        return cursor.rowcount


# Each word with whether it is known and, if not, its most similar known words.
CORRECTIONS_SQL = (
    "SELECT q.word, known.word IS NOT NULL, nearby.word"
    " FROM unnest(%s::text[]) AS q(word)"
    " LEFT JOIN search_word known ON known.word = q.word"
    " LEFT JOIN LATERAL (SELECT w.word FROM search_word w"
    "   WHERE known.word IS NULL AND w.word %% q.word AND similarity(w.word, q.word) >= %s"
    "   ORDER BY similarity(w.word, q.word) DESC, w.word LIMIT %s) AS nearby ON true"
)


def corrections(words: list[str]) -> dict[str, list[str]]:
    """For each of ``words`` (lower case) that the vocabulary lacks, its most similar words
    (best first; empty when none is similar enough). Known words are left out. One query."""
    if not words or connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute(CORRECTIONS_SQL, [words, MIN_SIMILARITY, SUGGESTIONS])
        found: dict[str, list[str]] = {}
        for word, known, similar in cursor.fetchall():
            if known:
                continue
            found.setdefault(word, [])
            if similar:
                found[word].append(similar)
    return found
