"""The person duplicate finder: pairs of leads that are likely one person under two emails.

Three rules, each a normalised key the leads are grouped by (``dedupe.keys`` computes them):

- ``company``: the same full name (first and last both given; lower case, spaces collapsed) and
  the same company (lower case, punctuation dropped, legal suffixes such as GmbH, Inc, Ltd,
  S.A. (``kit.legal_forms``) stripped from its end);
- ``phone``: the same phone, compared on its digits (at least 7 of them; the last 9, so
  ``+49 30 1234567`` and ``030 1234567`` are one number);
- ``domain``: the same full name and the same email domain (free-mail domains such as
  gmail.com left out: two John Smiths at gmail.com are two people).

The keys are stored, one ``LeadKey`` row a lead, and a run first refreshes those of the leads
written since the last one (``dedupe.keys.refresh_keys``: a small set-based step), then groups
the stored keys. On PostgreSQL that is one statement: a ``GROUP BY`` per rule, each reading its
own partial index, the pairs made inside each group. A group of more than ``MAX_GROUP_PAIRS``
leads (a shared switchboard number, a placeholder name) is reported as a group, not as its n²
pairs. On SQLite (the embedded mode) the stored keys are grouped in Python. Pairs a person
dismissed (``DismissedPair``) are not proposed again.

Each pair carries the rules it matched (its evidence) and a strength to sort by: the strongest
rule's weight, plus 5 for each further rule that agrees.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import QuerySet

from accounts.services import FREE_MAIL_DOMAINS
from leads.models import Lead

from . import keys
from .keys import KEY_FIELDS, Refreshed, company_key, domain_key, lead_keys, name_key, phone_key
from .models import DismissedPair, Kind, LeadKey

__all__ = [
    "Found",
    "Group",
    "Pair",
    "company_key",
    "domain_key",
    "find_people",
    "find_people_cached",
    "forget_found",
    "name_key",
    "phone_key",
    "refresh",
]

MAX_GROUP_PAIRS = 20  # leads in a group beyond which it is shown as a group, not as pairs
FINDER_CACHE_SECONDS = 300
GENERATION_KEY = "dedupe:people:generation"
FINDER_WORK_MEM = "256MB"  # PostgreSQL: for the finder's statement only (SET LOCAL)
# Most specific first: a name at one company is stronger than a shared phone (a switchboard),
# which is stronger than a name at one email domain (a large company has two Maria Müllers).
RULE_WEIGHTS = {"company": 90, "phone": 80, "domain": 70}
RULE_LABELS = {
    "company": "same name and company",
    "phone": "same phone",
    "domain": "same name and email domain",
}


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
    """The page's finder: the keys refreshed (``refresh``: a lead edited a second ago counts),
    then ``find_people`` over ``leads`` (the user's visible leads), kept in the cache for
    ``FINDER_CACHE_SECONDS`` per user until a key changes or a pair is merged or dismissed
    (``forget_found``); dismissed pairs are always left out fresh."""
    refresh()
    key = f"dedupe:people:{cache.get(GENERATION_KEY, 0)}:{user.pk}"
    raw = cache.get(key)
    if raw is None:
        raw = find_people(leads=leads, exclude_dismissed=False, refreshed=True)
        cache.set(key, raw, FINDER_CACHE_SECONDS)
    dismissed = _dismissed()
    return Found(
        pairs=[p for p in raw.pairs if (p.first_id, p.second_id) not in dismissed], groups=list(raw.groups)
    )


def forget_found() -> None:
    """After a merge, a dismissal or a key change: every person's cached pairs are recomputed."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not set yet
        cache.set(GENERATION_KEY, 1, None)


def refresh(*, full: bool = False) -> Refreshed:
    """The stored keys brought up to date (``dedupe.keys``: the leads written since the last
    refresh, or every lead when ``full``); the cached pairs are forgotten when a key changed."""
    done = keys.rebuild_keys() if full else keys.refresh_keys()
    if done.changed:
        forget_found()
    return done


def _dismissed() -> set[tuple[int, int]]:
    return set(DismissedPair.objects.filter(kind=Kind.LEAD).values_list("first_id", "second_id"))


def find_people(
    *,
    leads: QuerySet[Lead] | None = None,
    max_group: int = MAX_GROUP_PAIRS,
    exclude_dismissed: bool = True,
    refreshed: bool = False,
) -> Found:
    """Every likely duplicate pair among ``leads`` (all leads by default; a page passes
    ``Lead.objects.visible_to(user)``, so both leads of every pair are visible), strongest first
    (then by ids), and the groups too large to pair. The keys are refreshed first unless the
    caller just did (``refreshed``)."""
    if not refreshed:
        refresh()
    if connection.vendor == "postgresql":
        raw_pairs, groups = pairs_by_sql(leads, max_group)
    else:
        raw_pairs, groups = pairs_by_stored_keys(leads, max_group)
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


def _group_keys(
    keyed_leads: Iterable[tuple[int, tuple[str, ...]]], max_group: int
) -> tuple[list[tuple[str, int, int]], list[Group]]:
    """``(rule, first_id, second_id)`` rows and the groups too large to pair, from each lead's
    id and keys (``KEY_FIELDS`` order), in id order."""
    keyed: dict[tuple[str, str], list[int]] = defaultdict(list)
    for pk, (name, firm, digits, domain) in keyed_leads:
        if name and firm:
            keyed[("company", f"{name}|{firm}")].append(pk)
        if digits:
            keyed[("phone", digits)].append(pk)
        if name and domain and domain not in FREE_MAIL_DOMAINS:
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


def pairs_by_stored_keys(
    leads: QuerySet[Lead] | None, max_group: int
) -> tuple[list[tuple[str, int, int]], list[Group]]:
    """The embedded mode's finder (SQLite): the stored keys grouped in Python."""
    rows = LeadKey.objects.order_by("lead_id")
    if leads is not None:
        rows = rows.filter(lead_id__in=leads.order_by().values("pk"))
    keyed = (
        (pk, tuple(found))
        for pk, *found in rows.values_list("lead_id", *KEY_FIELDS).iterator(chunk_size=5000)
    )
    return _group_keys(keyed, max_group)


def pairs_by_python(
    leads: QuerySet[Lead] | None, max_group: int
) -> tuple[list[tuple[str, int, int]], list[Group]]:
    """The finder's definition, stored keys aside: every lead's keys computed in Python from the
    lead, then grouped. The tests hold the stored-key finders (SQL and Python) to its answers."""
    rows = (
        (Lead.objects.all() if leads is None else leads)
        .order_by("pk")
        .values_list("pk", "first_name", "last_name", "company", "phone", "email")
    )
    keyed = ((pk, lead_keys(*fields)) for pk, *fields in rows.iterator(chunk_size=5000))
    return _group_keys(keyed, max_group)


FINDER_SQL = """
WITH grouped AS (
    SELECT 'company' AS rule, name_key || '|' || company_key AS key, array_agg(lead_id ORDER BY lead_id) AS ids
      FROM dedupe_leadkey WHERE name_key <> '' AND company_key <> '' {visible}
     GROUP BY name_key, company_key HAVING count(*) > 1
    UNION ALL
    SELECT 'phone', phone_key, array_agg(lead_id ORDER BY lead_id)
      FROM dedupe_leadkey WHERE phone_key <> '' {visible}
     GROUP BY phone_key HAVING count(*) > 1
    UNION ALL
    SELECT 'domain', name_key || '|' || domain_key, array_agg(lead_id ORDER BY lead_id)
      FROM dedupe_leadkey WHERE name_key <> '' AND domain_key <> '' {visible}
     GROUP BY name_key, domain_key HAVING count(*) > 1 AND domain_key <> ALL(%s)
)
SELECT rule, key, a.id, b.id, '' AS size
  FROM grouped, unnest(ids) AS a(id), unnest(ids) AS b(id)
 WHERE a.id < b.id AND cardinality(ids) <= %s
UNION ALL
SELECT rule, key, ids[1], ids[2], cardinality(ids) || ':' || array_to_string(ids[1:5], ',')
  FROM grouped WHERE cardinality(ids) > %s
"""


def finder_sql(leads: QuerySet[Lead] | None = None, max_group: int = MAX_GROUP_PAIRS) -> tuple[str, list]:
    """The finder's one statement over the stored keys and its parameters (also what the bench
    runs bare). Every lead a user may see needs no filter: the stored keys are only of leads."""
    visible, params = "", []
    if leads is not None and leads.query.is_empty():
        visible = "AND false"
    elif leads is not None and leads.query.where:
        subquery, sub_params = leads.order_by().values("pk").query.sql_with_params()
        visible, params = f"AND lead_id IN ({subquery})", list(sub_params)
    sql = FINDER_SQL.format(visible=visible)
    return sql, [*params, *params, *params, sorted(FREE_MAIL_DOMAINS), max_group, max_group]


def pairs_by_sql(
    leads: QuerySet[Lead] | None, max_group: int
) -> tuple[list[tuple[str, int, int]], list[Group]]:
    """PostgreSQL's finder: ``finder_sql`` run, its rows split into pairs and groups."""
    pairs: list[tuple[str, int, int]] = []
    groups: list[Group] = []
    sql, params = finder_sql(leads, max_group)
    with transaction.atomic(), connection.cursor() as cursor:
        # Its groupings hash their keys in memory rather than sort them on disk.
        cursor.execute(f"SET LOCAL work_mem = '{FINDER_WORK_MEM}'")
        cursor.execute(sql, params)
        for rule, key, first, second, size in cursor.fetchall():
            if not size:
                pairs.append((rule, first, second))
            else:
                count, _, sample = str(size).partition(":")
                groups.append(Group(rule, key, int(count), tuple(int(i) for i in sample.split(","))))
    return pairs, groups
