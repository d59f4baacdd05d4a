"""The person finder's stored keys: each lead's normalised name, company, phone and email domain,
one ``LeadKey`` row a lead, so that a run of the finder is three ``GROUP BY``\\s over stored keys
instead of the normalisation of every lead (9 of the 11 seconds a run took over a million leads).

The normalisations are written once for Python (``name_key`` ...) and once for PostgreSQL (the
``sql_*`` builders); ``tests/dedupe/test_people_finder.py`` holds the two to the same answers.

Keeping them current:

- ``refresh_keys``: the leads written since the watermark (their ``updated_at``, which every
  service writing a lead sets, less ``REFRESH_OVERLAP`` for transactions that were still open
  when the last refresh read) and every lead above the highest id keyed (a lead created with
  an older ``updated_at``, as the demo's history and imports write). One set-based upsert that
  rewrites only the rows whose keys changed and says how many did. The finder runs it first,
  so a lead edited a second before the page is opened is grouped by its new keys; the beat
  task ``dedupe.tasks.refresh_keys`` runs it every five minutes too, so the page's step stays
  small.
- ``rebuild_keys``: every lead (the nightly beat task ``dedupe.tasks.rebuild_keys`` and
  ``manage.py dedupe_keys --rebuild``), which also corrects what no watermark sees (a lead
  written by hand with an old ``updated_at``, a change of the free-mail list).
- a deleted or merged lead's row goes with it (``on_delete=CASCADE``).

Refreshes are serialised (a transaction-level advisory lock on PostgreSQL; SQLite has one writer
at a time anyway). On PostgreSQL the keys are computed in SQL; on SQLite (the embedded mode) in
Python over the same few leads.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.services import FREE_MAIL_DOMAINS, email_domain
from kit.legal_forms import LEGAL_SUFFIXES
from leads.models import Lead

from .models import KeyWatermark, LeadKey

MIN_PHONE_DIGITS = 7
PHONE_DIGITS_COMPARED = 9
MAX_SUFFIX_WORDS = 3
REFRESH_OVERLAP = timedelta(minutes=10)
REFRESH_LOCK = 0x6465_6475  # pg_advisory_xact_lock key: "dedu"
KEY_FIELDS = ("name_key", "company_key", "phone_key", "domain_key")

# The normalisations, written once for Python and PostgreSQL alike: characters dropped, characters
# that separate words, and up to three legal suffix words stripped from the end ("GmbH & Co. KG").
# Suffixes are compared as words (an array lookup), not with a regular expression: PostgreSQL's
# regex engine took 20 µs a company for an end-anchored alternation.
_DROPPED = ".,'\"()[]!?"
_SPACED = "-/&;:+_\t\n\r"
_TRANSLATION = str.maketrans(_SPACED, " " * len(_SPACED), _DROPPED)


def name_key(first_name: str, last_name: str) -> str:
    """The full name compared: lower case, trimmed; empty unless both parts are given."""
    first, last = first_name.strip(" "), last_name.strip(" ")
    if not first or not last:
        return ""
    return f"{first} {last}".lower()


def company_key(company: str) -> str:
    """The company compared: lower case, punctuation dropped, legal suffixes stripped."""
    words = [word for word in company.lower().translate(_TRANSLATION).split(" ") if word]
    stripped = 0
    while (
        stripped < MAX_SUFFIX_WORDS and len(words) - stripped > 1 and words[-1 - stripped] in LEGAL_SUFFIXES
    ):
        stripped += 1
    return " ".join(words[: len(words) - stripped])


def phone_key(phone: str) -> str:
    """The phone compared: its last digits, or empty when it has too few."""
    digits = re.sub(r"[^0-9]", "", phone)
    return digits[-PHONE_DIGITS_COMPARED:] if len(digits) >= MIN_PHONE_DIGITS else ""


def domain_key(email: str) -> str:
    """The company domain of the address; free mail (``accounts.services.email_domain``) has none."""
    return email_domain(email)


def lead_keys(first_name: str, last_name: str, company: str, phone: str, email: str) -> tuple[str, ...]:
    """One lead's four keys, in ``KEY_FIELDS`` order."""
    return (name_key(first_name, last_name), company_key(company), phone_key(phone), domain_key(email))


def _lit(pattern: str) -> str:
    """A pattern as an SQL string literal."""
    return "'" + pattern.replace("'", "''") + "'"


def sql_name(first: str, last: str) -> str:
    return (
        f"CASE WHEN btrim({first}) <> '' AND btrim({last}) <> '' THEN"
        f" lower(btrim({first}) || ' ' || btrim({last})) ELSE '' END"
    )


def sql_company_words(column: str) -> str:
    """The company's words after cleaning (an array; ``{}`` for an empty company)."""
    cleaned = f"translate(lower({column}), {_lit(_SPACED + _DROPPED)}, {_lit(' ' * len(_SPACED))})"
    return f"array_remove(string_to_array({cleaned}, ' '), '')"


def sql_company_key(words: str) -> str:
    """The words joined back without up to ``MAX_SUFFIX_WORDS`` trailing legal suffixes."""
    suffixes = "ARRAY[" + ", ".join(_lit(s) for s in sorted(LEGAL_SUFFIXES)) + "]"
    n = f"cardinality({words})"
    # k words are stripped when the last k are all suffixes and at least one word stays; nested
    # from the last word inwards, so a company without a suffix costs one lookup
    stripped = str(MAX_SUFFIX_WORDS)
    for k in range(MAX_SUFFIX_WORDS, 0, -1):
        word = f"{words}[{n} - {k - 1}]"
        stripped = f"CASE WHEN {n} > {k} AND {word} = ANY({suffixes}) THEN {stripped} ELSE {k - 1} END"
    return f"array_to_string({words}[1:{n} - ({stripped})], ' ')"


def sql_phone(digits: str) -> str:
    return f"CASE WHEN length({digits}) >= {MIN_PHONE_DIGITS} THEN right({digits}, {PHONE_DIGITS_COMPARED}) ELSE '' END"


# The keys of the leads chosen by {where}, upserted; a row is rewritten only when a key changed.
# The watermark is written by the same statement, which answers how many keys changed.
REFRESH_SQL = """
WITH cleaned AS MATERIALIZED (
    SELECT id, {name} AS name_key, {company_words} AS company_words,
           CASE WHEN phone = '' THEN '' ELSE regexp_replace(phone, '[^0-9]', '', 'g') END AS digits,
           lower(btrim(split_part(email, '@', 2))) AS domain
      FROM leads_lead {where}
), written AS (
    INSERT INTO dedupe_leadkey (lead_id, name_key, company_key, phone_key, domain_key)
    SELECT id, name_key, {company_key}, {phone},
           CASE WHEN domain = ANY(%(free_mail)s) THEN '' ELSE domain END
      FROM cleaned ORDER BY id
        ON CONFLICT (lead_id) DO UPDATE
       SET name_key = EXCLUDED.name_key, company_key = EXCLUDED.company_key,
           phone_key = EXCLUDED.phone_key, domain_key = EXCLUDED.domain_key
     WHERE (dedupe_leadkey.name_key, dedupe_leadkey.company_key, dedupe_leadkey.phone_key,
            dedupe_leadkey.domain_key)
           IS DISTINCT FROM (EXCLUDED.name_key, EXCLUDED.company_key, EXCLUDED.phone_key, EXCLUDED.domain_key)
    RETURNING 1
), marked AS (
    INSERT INTO dedupe_keywatermark (id, refreshed_through, keyed_through_id, rebuilt_at)
    VALUES (1, %(through)s, GREATEST(%(above)s, (SELECT coalesce(max(id), 0) FROM leads_lead)), %(rebuilt)s)
        ON CONFLICT (id) DO UPDATE
       SET refreshed_through = EXCLUDED.refreshed_through, keyed_through_id = EXCLUDED.keyed_through_id,
           rebuilt_at = coalesce(EXCLUDED.rebuilt_at, dedupe_keywatermark.rebuilt_at)
    RETURNING 1
)
SELECT count(*) FROM written
"""


def refresh_sql(where: str = "") -> str:
    """The upsert of the keys of the leads ``where`` chooses (all of them when empty)."""
    return REFRESH_SQL.format(
        name=sql_name("first_name", "last_name"),
        company_words=sql_company_words("company"),
        company_key=sql_company_key("company_words"),
        phone=sql_phone("digits"),
        where=where,
    )


@dataclass(frozen=True)
class Refreshed:
    """What a refresh did: the leads it looked at (``None``: all) and the keys it changed."""

    since: datetime | None
    changed: int


def refresh_keys() -> Refreshed:
    """The keys of the leads written since the last refresh (every lead on the first one)."""
    return _refresh(full=False)


def rebuild_keys() -> Refreshed:
    """The keys of every lead, recomputed; only the rows whose keys changed are written."""
    return _refresh(full=True)


def _refresh(*, full: bool) -> Refreshed:
    started = timezone.now()
    through = started - REFRESH_OVERLAP
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            # Read in the lock's statement snapshot: a watermark moved meanwhile only makes this
            # refresh look at more leads than it needs to.
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s), m.refreshed_through, m.keyed_through_id"
                " FROM (SELECT 1) AS one LEFT JOIN dedupe_keywatermark AS m ON m.id = 1",
                [REFRESH_LOCK],
            )
            _, since, above = cursor.fetchone()
            if full or since is None:
                since, above = None, 0
                cursor.execute("SET LOCAL work_mem = '256MB'")  # a million rows hashed in memory
            where = "" if since is None else "WHERE updated_at >= %(since)s OR id > %(above)s"
            params = {
                "since": since,
                "above": above,
                "through": through,
                "rebuilt": started if since is None else None,
                "free_mail": sorted(FREE_MAIL_DOMAINS),
            }
            cursor.execute(refresh_sql(where), params)
            return Refreshed(since=since, changed=cursor.fetchone()[0])
    with transaction.atomic():
        mark = KeyWatermark.objects.filter(pk=1).first()
        since = None if full or mark is None else mark.refreshed_through
        above = 0 if mark is None else mark.keyed_through_id
        top = Lead.objects.aggregate(top=Max("pk"))["top"] or 0
        changed = _refresh_in_python(since, above)
        KeyWatermark.objects.update_or_create(
            pk=1,
            defaults={
                "refreshed_through": through,
                "keyed_through_id": max(top, above),
                **({"rebuilt_at": started} if since is None else {}),
            },
        )
    return Refreshed(since=since, changed=changed)


def _refresh_in_python(since: datetime | None, above: int) -> int:
    leads = Lead.objects.order_by("pk")
    if since is not None:
        leads = leads.filter(Q(updated_at__gte=since) | Q(pk__gt=above))
    changed = 0
    rows = leads.values_list("pk", "first_name", "last_name", "company", "phone", "email")
    batch: list[tuple[int, tuple[str, ...]]] = []
    for pk, *fields in rows.iterator(chunk_size=2000):
        batch.append((pk, lead_keys(*fields)))
        if len(batch) == 2000:
            changed += _write_keys(batch)
            batch = []
    return changed + _write_keys(batch)


def _write_keys(batch: list[tuple[int, tuple[str, ...]]]) -> int:
    """Upsert the rows of ``batch`` whose keys differ from those stored; how many did."""
    stored = {
        row[0]: tuple(row[1:])
        for row in LeadKey.objects.filter(lead_id__in=[pk for pk, _ in batch]).values_list(
            "lead_id", *KEY_FIELDS
        )
    }
    new = [
        LeadKey(lead_id=pk, **dict(zip(KEY_FIELDS, keys, strict=True)))
        for pk, keys in batch
        if stored.get(pk) != keys
    ]
    LeadKey.objects.bulk_create(
        new, update_conflicts=True, unique_fields=["lead"], update_fields=list(KEY_FIELDS)
    )
    return len(new)
