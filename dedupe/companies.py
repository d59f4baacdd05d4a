"""The company duplicate finder: accounts that are likely the same company, each pair with its
evidence and a strength (0-100), strongest first.

Evidence, strongest first:

- ``domain``: the same registrable domain (lower case, ``www.`` and other subdomains stripped:
  ``www.acme.com``, ``eu.acme.com`` and ``acme.com`` meet; ``acme.co.uk`` keeps its three
  labels). A free-mail domain (``accounts.services.email_domain``'s list) never counts;
- ``name``: the same normalised name (lower case, accents, punctuation and legal suffixes such
  as GmbH, AG, Inc, Ltd, LLC, S.A., S.L., SAS, BV removed, the list the person finder strips
  too, ``kit.legal_forms``: "ACME GmbH" and "Acme, Inc." meet);
- ``similar``: normalised names pg_trgm's ``similarity`` (the same trigrams, computed here)
  finds alike ("Acme Widgets" and "Acme Widget"). Each name is compared with the few that follow
  it in sorted order, on PostgreSQL and SQLite alike. A self-join probing search's trigram
  index (``search_account_document``) was measured first: 183 s for 10,000 accounts whose names
  share common words, since every probe reads the long posting lists of common trigrams; the
  whole finder as written takes 0.55 s at 10,000 accounts and 4 s at 50,000 (the same names),
  and misses only pairs whose names differ in their first letters (the domain often catches
  those).

A pair someone dismissed (``dedupe.DismissedPair``, kind account) is not proposed again. The
finder reads every account's id, name and domain in one query and groups them in memory (an
installation has thousands of accounts, not millions: the lead finder is the one that scales
to a million rows), and caches the pairs under a digest of what it read, so a page view after
the first one only reads and hashes the rows until an account changes; a page of pairs is then
loaded in one more query, so the page issues a fixed number of queries whatever the number of
accounts or pairs.
"""

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from accounts.models import Account, Contact, Opportunity
from accounts.services import email_domain
from kit.legal_forms import LEGAL_SUFFIXES
from renewals.models import Contract

from .models import DismissedPair, Kind

# Second-level labels under a country code that are registries, not companies (acme.co.uk).
_SECOND_LEVEL = frozenset(["co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "gv", "ltd", "plc"])
# A name shared by more accounts than this pairs each with the oldest only (not n² pairs).
GROUP_ALL_PAIRS = 12
# How similar two names must be (pg_trgm's similarity, 0-1) to be proposed as "similar".
NAME_SIMILARITY = 0.6
# Each normalised name is compared with this many that follow it in sorted order.
SIMILAR_WINDOW = 5

STRENGTH = {"domain": 95, "name": 85}
# The pairs are cached under a digest of the accounts (``find_pair_keys``): the time only bounds
# the memory a digest nobody asks for again holds. The version changes with the rules.
FINDER_CACHE_SECONDS = 3600
FINDER_VERSION = 1


@dataclass(frozen=True)
class Evidence:
    """Why two accounts look like one company."""

    kind: str  # "domain", "name" or "similar"
    detail: str

    @property
    def label(self) -> str:
        return {"domain": "Same domain", "name": "Same name", "similar": "Similar name"}[self.kind]


@dataclass
class PairKey:
    """Two account ids (``first_id`` < ``second_id``), their evidence and strength."""

    first_id: int
    second_id: int
    evidence: list[Evidence] = field(default_factory=list)
    strength: int = 0


@dataclass
class CompanyPair:
    """One row of the finder's page: both accounts (with what hangs on them counted)."""

    first: Account
    second: Account
    evidence: list[Evidence]
    strength: int

    @property
    def both(self) -> tuple[Account, Account]:
        return (self.first, self.second)


def registrable_domain(domain: str) -> str:
    """The domain a company registered, lower case, or "" for none or a free-mail provider."""
    domain = (domain or "").strip().lower().rstrip(".")
    if domain.startswith("www."):
        domain = domain[4:]
    labels = [label for label in domain.split(".") if label]
    if len(labels) < 2:
        return ""
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    registered = ".".join(labels[-keep:])
    if not email_domain(f"x@{registered}") or not email_domain(f"x@{domain}"):
        return ""  # free mail: many companies, no company
    return registered


def normalised_name(name: str) -> str:
    """A company name as compared: lower case, without accents, punctuation or legal suffixes."""
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().lower()
    text = text.replace("&", " and ")
    text = re.sub(r"[.,'`]", "", text)  # "S.A." -> "sa", "O'Brien" -> "obrien"
    words = re.sub(r"[^a-z0-9]+", " ", text).split()
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    if len(words) > 1 and words[0] == "the":
        words.pop(0)
    if len(words) == 1 and (words[0] in LEGAL_SUFFIXES or words[0] == "the"):
        return ""  # a name that is only a legal form says nothing
    return " ".join(words)


def _grouped_pairs(groups: dict[str, list[int]]) -> Iterable[tuple[str, int, int]]:
    for key, ids in groups.items():
        if len(ids) < 2:
            continue
        ids.sort()
        if len(ids) <= GROUP_ALL_PAIRS:
            yield from ((key, a, b) for i, a in enumerate(ids) for b in ids[i + 1 :])
        else:
            yield from ((key, ids[0], b) for b in ids[1:])


def trigrams(text: str) -> frozenset[str]:
    """pg_trgm's trigrams of a text: each word lower case, padded with two spaces before and
    one after, cut in threes."""
    found: set[str] = set()
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        padded = f"  {word} "
        found.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(found)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """pg_trgm's ``similarity``: shared trigrams over all trigrams of the two."""
    return len(a & b) / len(a | b) if a and b else 0.0


def _similar_names(names: dict[int, str]) -> list[tuple[int, int, float]]:
    """Pairs of accounts whose normalised names are alike but not equal: each name compared with
    the next ``SIMILAR_WINDOW`` in sorted order (sorted neighbourhood), so the work grows with
    the number of accounts, not its square."""
    ordered = sorted((name, pk) for pk, name in names.items() if name)
    grams = [trigrams(name) for name, _ in ordered]
    found = []
    for i, (name, pk) in enumerate(ordered):
        for j in range(i + 1, min(i + 1 + SIMILAR_WINDOW, len(ordered))):
            other, other_pk = ordered[j]
            if other == name:
                continue  # equal normalised names are "name" evidence
            if (alike := similarity(grams[i], grams[j])) >= NAME_SIMILARITY:
                found.append((min(pk, other_pk), max(pk, other_pk), alike))
    return found


def find_pair_keys() -> list[PairKey]:
    """Every proposed pair (dismissed ones left out), strongest first: two queries, and the
    grouping only when an account's name or domain changed since it was last done.

    The pairs are cached under a digest of every account's id, name and domain (read in the
    first query): an account added, renamed, given another domain, merged or deleted is another
    digest, so the cache never answers for accounts that changed, and no writer of accounts has
    to say it wrote one. Dismissed pairs are left out fresh (the second query)."""
    rows = list(Account.objects.order_by("pk").values_list("pk", "name", "domain"))
    digest = hashlib.blake2b(repr(rows).encode(), digest_size=16).hexdigest()
    key = f"dedupe:companies:{FINDER_VERSION}:{digest}"
    found = cache.get(key)
    if found is None:
        found = _pair_keys(rows)
        cache.set(key, found, FINDER_CACHE_SECONDS)
    dismissed = set(
        DismissedPair.objects.filter(kind=Kind.ACCOUNT).values_list("first_id", "second_id").iterator()
    )
    return [pair for pair in found if (pair.first_id, pair.second_id) not in dismissed]


def _pair_keys(rows: list[tuple[int, str, str]]) -> list[PairKey]:
    """Every pair among the accounts' ``(id, name, domain)`` rows, strongest first."""
    by_domain: dict[str, list[int]] = defaultdict(list)
    by_name: dict[str, list[int]] = defaultdict(list)
    normal_names: dict[int, str] = {}
    for pk, name, domain in rows:
        if registered := registrable_domain(domain):
            by_domain[registered].append(pk)
        if normal := normalised_name(name):
            by_name[normal].append(pk)
            normal_names[pk] = normal
    pairs: dict[tuple[int, int], PairKey] = {}

    def add(a: int, b: int, evidence: Evidence, strength: int) -> None:
        pair = pairs.setdefault((a, b), PairKey(a, b))
        if all(e.kind != evidence.kind for e in pair.evidence):
            pair.evidence.append(evidence)
        pair.strength = max(pair.strength, strength)

    for key, a, b in _grouped_pairs(by_domain):
        add(a, b, Evidence("domain", key), STRENGTH["domain"])
    for key, a, b in _grouped_pairs(by_name):
        add(a, b, Evidence("name", key), STRENGTH["name"])
    for a, b, alike in _similar_names(normal_names):
        if not _has(pairs, a, b, "name"):
            add(a, b, Evidence("similar", f"{alike:.0%} alike"), round(alike * 80))
    found = list(pairs.values())
    for pair in found:
        if len(pair.evidence) > 1:  # two kinds of evidence agree: stronger than either
            pair.strength = min(100, pair.strength + 5)
    found.sort(key=lambda p: (-p.strength, p.first_id, p.second_id))
    return found


def _has(pairs: dict[tuple[int, int], PairKey], a: int, b: int, kind: str) -> bool:
    pair = pairs.get((a, b))
    return pair is not None and any(e.kind == kind for e in pair.evidence)


def _count(model, related: str):
    """A scalar subquery counting ``model`` rows of the outer account (no join fan-out)."""
    rows = (
        model.objects.filter(**{related: OuterRef("pk")})
        .order_by()
        .values(related)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def with_counts(accounts):
    """Accounts with their contacts, opportunities and contracts counted, AM and prospector
    joined: what the finder and the merge screen show beside each account."""
    return accounts.select_related("account_manager", "prospector").annotate(
        contact_count=_count(Contact, "account"),
        opportunity_count=_count(Opportunity, "account"),
        contract_count=_count(Contract, "account"),
    )


def load_pairs(keys: list[PairKey]) -> list[CompanyPair]:
    """The accounts of a page of pairs, in one query."""
    ids = {pk for key in keys for pk in (key.first_id, key.second_id)}
    accounts = {a.pk: a for a in with_counts(Account.objects.filter(pk__in=ids))} if ids else {}
    return [
        CompanyPair(accounts[k.first_id], accounts[k.second_id], k.evidence, k.strength)
        for k in keys
        if k.first_id in accounts and k.second_id in accounts
    ]


def evidence_for(first: Account, second: Account) -> list[Evidence]:
    """What makes these two look alike, for the merge screen (no query)."""
    found = []
    if (domain := registrable_domain(first.domain)) and domain == registrable_domain(second.domain):
        found.append(Evidence("domain", domain))
    if (name := normalised_name(first.name)) and name == normalised_name(second.name):
        found.append(Evidence("name", name))
    return found
