"""The person duplicate finder: pairs of leads that are likely one person under two emails.

Three rules, each a normalised key the leads are grouped by:

- ``company``: the same full name (first and last both given; lower case, spaces collapsed) and
  the same company (lower case, punctuation dropped, legal suffixes such as GmbH, Inc, Ltd,
  S.A. stripped from its end);
- ``phone``: the same phone, compared on its digits (at least 7 of them; the last 9, so
  ``+49 30 1234567`` and ``030 1234567`` are one number);
- ``domain``: the same full name and the same email domain (free-mail domains such as
  gmail.com left out: two John Smiths at gmail.com are two people).

On PostgreSQL it is one set-based statement: the keys computed in one scan of the leads, a
``GROUP BY`` per rule, the pairs made inside each group. A group of more than
``MAX_GROUP_PAIRS`` leads (a shared switchboard number, a placeholder name) is reported as a
group, not as its n² pairs. On SQLite (the embedded mode) the same keys are computed in Python
over one pass of the leads. Pairs a person dismissed (``DismissedPair``) are not proposed again.

Each pair carries the rules it matched (its evidence) and a strength to sort by: the strongest
rule's weight, plus 5 for each further rule that agrees.
"""

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import QuerySet

from accounts.services import FREE_MAIL_DOMAINS, email_domain
from leads.models import Lead

from .models import DismissedPair, Kind

MAX_GROUP_PAIRS = 20  # leads in a group beyond which it is shown as a group, not as pairs
FINDER_CACHE_SECONDS = 300
GENERATION_KEY = "dedupe:people:generation"
FINDER_WORK_MEM = "256MB"  # PostgreSQL: for the finder's statement only (SET LOCAL)
MIN_PHONE_DIGITS = 7
PHONE_DIGITS_COMPARED = 9

# Most specific first: a name at one company is stronger than a shared phone (a switchboard),
# which is stronger than a name at one email domain (a large company has two Maria Müllers).
RULE_WEIGHTS = {"company": 90, "phone": 80, "domain": 70}
RULE_LABELS = {
    "company": "same name and company",
    "phone": "same phone",
    "domain": "same name and email domain",
}

LEGAL_SUFFIXES = (
    "gmbh", "mbh", "ag", "kg", "ohg", "ug", "se", "inc", "incorporated", "corp", "corporation",
    "co", "company", "ltd", "limited", "llc", "llp", "lp", "plc", "sa", "sas", "sarl", "srl",
    "spa", "bv", "nv", "oy", "ab", "as", "asa", "aps", "pty", "kk",
)  # fmt: skip

# The normalisations, written once for Python and PostgreSQL alike: characters dropped, characters
# that separate words, and up to three legal suffix words stripped from the end ("GmbH & Co. KG").
# Suffixes are compared as words (an array lookup), not with a regular expression: PostgreSQL's
# regex engine took 20 µs a company for an end-anchored alternation, most of the finder's time.
_DROPPED = ".,'\"()[]!?"
_SPACED = "-/&;:+_\t\n\r"
MAX_SUFFIX_WORDS = 3
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


@dataclass(frozen=True)
class Pair:
    """Two leads (``first_id`` < ``second_id``) and the rules they matched."""

    first_id: int
    second_id: int
    rules: tuple[str, ...]

    @property
    def strength(self) -> int:
        weights = sorted((RULE_WEIGHTS[r] for r in self.rules), reverse=True)
        return min(100, weights[0] + 5 * (len(weights) - 1))


@dataclass(frozen=True)
class Group:
    """More leads sharing one key than are worth pairing: shown whole, with a few of its ids."""

    rule: str
    key: str
    size: int
    sample_ids: tuple[int, ...]


@dataclass
class Found:
    pairs: list[Pair] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)


def find_people_cached(*, user, leads: QuerySet[Lead]) -> Found:
    """The page's finder: ``find_people`` over ``leads`` (the user's visible leads), kept in the
    cache for ``FINDER_CACHE_SECONDS`` per user and recomputed after any merge or dismissal
    (``forget_found``); dismissed pairs are always left out fresh. Over a million leads the
    statement takes seconds: a person paging through the pairs pays it once."""
    key = f"dedupe:people:{cache.get(GENERATION_KEY, 0)}:{user.pk}"
    raw = cache.get(key)
    if raw is None:
        raw = find_people(leads=leads, exclude_dismissed=False)
        cache.set(key, raw, FINDER_CACHE_SECONDS)
    dismissed = _dismissed()
    return Found(
        pairs=[p for p in raw.pairs if (p.first_id, p.second_id) not in dismissed], groups=list(raw.groups)
    )


def forget_found() -> None:
    """After a merge or a dismissal: every person's cached pairs are recomputed."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not set yet
        cache.set(GENERATION_KEY, 1, None)


def _dismissed() -> set[tuple[int, int]]:
    return set(DismissedPair.objects.filter(kind=Kind.LEAD).values_list("first_id", "second_id"))


def find_people(
    *, leads: QuerySet[Lead] | None = None, max_group: int = MAX_GROUP_PAIRS, exclude_dismissed: bool = True
) -> Found:
    """Every likely duplicate pair among ``leads`` (all leads by default; a page passes
    ``Lead.objects.visible_to(user)``, so both leads of every pair are visible), strongest first
    (then by ids), and the groups too large to pair."""
    if connection.vendor == "postgresql":
        raw_pairs, groups = pairs_by_sql(leads, max_group)
    else:
        raw_pairs, groups = pairs_by_python(leads, max_group)
    dismissed = _dismissed() if exclude_dismissed else set()
    pairs = [p for p in _combine(raw_pairs) if (p.first_id, p.second_id) not in dismissed]
    pairs.sort(key=lambda p: (-p.strength, p.first_id, p.second_id))
    groups.sort(key=lambda g: (-g.size, g.rule, g.key))
    return Found(pairs=pairs, groups=groups)


def _combine(raw: Iterable[tuple[str, int, int]]) -> list[Pair]:
    rules: dict[tuple[int, int], set[str]] = defaultdict(set)
    for rule, first, second in raw:
        rules[(first, second)].add(rule)
    order = list(RULE_WEIGHTS)
    return [Pair(a, b, tuple(sorted(r, key=order.index))) for (a, b), r in rules.items()]


def pairs_by_python(
    leads: QuerySet[Lead] | None, max_group: int
) -> tuple[list[tuple[str, int, int]], list[Group]]:
    """The embedded mode's finder (SQLite): the keys computed in Python over one pass of the
    leads. Returns ``(rule, first_id, second_id)`` rows and the groups too large to pair."""
    keyed: dict[tuple[str, str], list[int]] = defaultdict(list)
    rows = (
        (Lead.objects.all() if leads is None else leads)
        .order_by("pk")
        .values_list("pk", "first_name", "last_name", "company", "phone", "email")
    )
    for pk, first, last, company, phone, email in rows.iterator(chunk_size=5000):
        name = name_key(first, last)
        if name and (firm := company_key(company)):
            keyed[("company", f"{name}|{firm}")].append(pk)
        if digits := phone_key(phone):
            keyed[("phone", digits)].append(pk)
        if name and (domain := domain_key(email)):
            keyed[("domain", f"{name}|{domain}")].append(pk)
    pairs: list[tuple[str, int, int]] = []
    groups: list[Group] = []
    for (rule, key), ids in keyed.items():
        if len(ids) < 2:
            continue
        if len(ids) > max_group:
            groups.append(Group(rule, key, len(ids), tuple(ids[:5])))
            continue
        pairs.extend((rule, a, b) for i, a in enumerate(ids) for b in ids[i + 1 :])
    return pairs, groups


def _lit(pattern: str) -> str:
    """A pattern as an SQL string literal."""
    return "'" + pattern.replace("'", "''") + "'"


def _sql_name(first: str, last: str) -> str:
    return (
        f"CASE WHEN btrim({first}) <> '' AND btrim({last}) <> '' THEN"
        f" lower(btrim({first}) || ' ' || btrim({last})) ELSE '' END"
    )


def _sql_company_words(column: str) -> str:
    """The company's words after cleaning (an array; ``{}`` for an empty company)."""
    cleaned = f"translate(lower({column}), {_lit(_SPACED + _DROPPED)}, {_lit(' ' * len(_SPACED))})"
    return f"array_remove(string_to_array({cleaned}, ' '), '')"


def _sql_company_key(words: str) -> str:
    """The words joined back without up to ``MAX_SUFFIX_WORDS`` trailing legal suffixes."""
    suffixes = "ARRAY[" + ", ".join(_lit(s) for s in LEGAL_SUFFIXES) + "]"
    n = f"cardinality({words})"
    # k words are stripped when the last k are all suffixes and at least one word stays; nested
    # from the last word inwards, so a company without a suffix costs one lookup
    stripped = str(MAX_SUFFIX_WORDS)
    for k in range(MAX_SUFFIX_WORDS, 0, -1):
        word = f"{words}[{n} - {k - 1}]"
        stripped = f"CASE WHEN {n} > {k} AND {word} = ANY({suffixes}) THEN {stripped} ELSE {k - 1} END"
    return f"array_to_string({words}[1:{n} - ({stripped})], ' ')"


def _sql_phone(digits: str) -> str:
    return f"CASE WHEN length({digits}) >= {MIN_PHONE_DIGITS} THEN right({digits}, {PHONE_DIGITS_COMPARED}) ELSE '' END"


FINDER_SQL = """
WITH cleaned AS MATERIALIZED (
    SELECT id,
           {name} AS name_key,
           {company_words} AS company_words,
           CASE WHEN phone = '' THEN '' ELSE regexp_replace(phone, '[^0-9]', '', 'g') END AS digits,
           lower(split_part(email, '@', 2)) AS domain_key
      FROM leads_lead {where}
), keyed AS MATERIALIZED (
    SELECT id, name_key COLLATE "C" AS name_key, domain_key COLLATE "C" AS domain_key,
           (CASE WHEN name_key <> '' THEN {company_key} ELSE '' END) COLLATE "C" AS company_key,
           ({phone}) COLLATE "C" AS phone_key
      FROM cleaned
), grouped AS (
    SELECT 'company' AS rule, name_key || '|' || company_key AS key, array_agg(id ORDER BY id) AS ids
      FROM keyed WHERE name_key <> '' AND company_key <> ''
     GROUP BY name_key, company_key HAVING count(*) > 1
    UNION ALL
    SELECT 'phone', phone_key, array_agg(id ORDER BY id)
      FROM keyed WHERE phone_key <> ''
     GROUP BY phone_key HAVING count(*) > 1
    UNION ALL
    SELECT 'domain', name_key || '|' || domain_key, array_agg(id ORDER BY id)
      FROM keyed WHERE name_key <> '' AND domain_key <> '' AND domain_key <> ALL(%s)
     GROUP BY name_key, domain_key HAVING count(*) > 1
)
SELECT rule, key, a.id, b.id, '' AS size
  FROM grouped, unnest(ids) AS a(id), unnest(ids) AS b(id)
 WHERE a.id < b.id AND cardinality(ids) <= %s
UNION ALL
SELECT rule, key, ids[1], ids[2], cardinality(ids) || ':' || array_to_string(ids[1:5], ',')
  FROM grouped WHERE cardinality(ids) > %s
"""


def finder_sql(leads: QuerySet[Lead] | None = None, max_group: int = MAX_GROUP_PAIRS) -> tuple[str, list]:
    """The finder's one statement and its parameters (also what the bench runs bare)."""
    where, params = "", []
    if leads is not None:
        subquery, sub_params = leads.order_by().values("pk").query.sql_with_params()
        where, params = f"WHERE id IN ({subquery})", list(sub_params)
    sql = FINDER_SQL.format(
        name=_sql_name("first_name", "last_name"),
        company_words=_sql_company_words("company"),
        company_key=_sql_company_key("company_words"),
        phone=_sql_phone("digits"),
        where=where,
    )
    return sql, [*params, sorted(FREE_MAIL_DOMAINS), max_group, max_group]


def pairs_by_sql(
    leads: QuerySet[Lead] | None, max_group: int
) -> tuple[list[tuple[str, int, int]], list[Group]]:
    """PostgreSQL's finder: ``finder_sql`` run, its rows split into pairs and groups."""
    pairs: list[tuple[str, int, int]] = []
    groups: list[Group] = []
    sql, params = finder_sql(leads, max_group)
    with transaction.atomic(), connection.cursor() as cursor:
        # Its groupings hash a million keys in memory rather than sort them on disk.
        cursor.execute(f"SET LOCAL work_mem = '{FINDER_WORK_MEM}'")
        cursor.execute(sql, params)
        for rule, key, first, second, size in cursor.fetchall():
            if not size:
                pairs.append((rule, first, second))
            else:
                count, _, sample = str(size).partition(":")
                groups.append(Group(rule, key, int(count), tuple(int(i) for i in sample.split(","))))
    return pairs, groups
