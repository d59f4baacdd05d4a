"""One search: what was asked, turned into one query per kind the user may see (so five at most,
whatever the data size), each ranked exact email or phone first, then by similarity.

A document matches when it contains every word of the query, in any order (``ILIKE`` on
PostgreSQL, answered by the document's GIN trigram index, which intersects the words' trigram
lists; ``LIKE`` on SQLite). On PostgreSQL a word the vocabulary does not know is also tried as
its most similar known words (``search.vocabulary``): "Sistems" finds "Systems". A whole email
address is looked up by its unique index; a query that looks like a phone number also matches
the digits of phones (``phone_candidates``). Ranking, on at most ``CANDIDATES`` matches: an
exact email or phone, then the text as typed at the start, then inside, then pg_trgm's word
similarity to what was typed (on SQLite, starting with it).
"""

import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection
from django.db.models import Case, F, IntegerField, Lookup, Q, QuerySet, Value, When
from django.db.models.functions import Greatest

from accounts.models import Account

from . import access, vocabulary
from .documents import digits, document

MIN_LENGTH = 3  # a trigram: shorter text cannot use the indexes
MAX_LENGTH = 100
DROPDOWN_LIMIT = 5
PAGE_LIMIT = 20
MIN_PHONE_DIGITS = 4
# A query shared by many records is ranked among this many of them (``_Search._ranked``).
CANDIDATES = 200
# After a "+" or "00", the country code may be written as a 0 at home: "+49 30 1234" is
# "030 1234" in Germany. Dropping it must leave enough digits to mean much.
MIN_NATIONAL_DIGITS = 6
# The ITU's country codes of one and two digits (E.164); every other code has three. Knowing
# where the code ends keeps a phone search to one national form: trying every length would
# also look for the last six digits alone, which thousands of numbers contain.
_SHORT_COUNTRY_CODES = frozenset([
    "1", "7", "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48", "49",
    "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66", "81", "82", "84", "86", "90",
    "91", "92", "93", "94", "95", "98",
])  # fmt: skip
_PHONE_LIKE = re.compile(r"\+?[\d\s().\-/]+\Z")
_SPACES = re.compile(r"\s+")
# An email or a domain ("jane@", "acme.com"): looked for as written, never by similarity.
_ADDRESS = re.compile(r"@|\w\.\w")
# A whole email address: looked up by the unique index on email (and its domain on accounts),
# not searched for inside every document.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+\Z")


@dataclass(frozen=True)
class Hit:
    """One record found: what the dropdown and the results page show, and which page opens it
    (a URL name and its argument, reversed in the template)."""

    kind: str
    title: str
    detail: str
    url_name: str
    pk: int
    anchor: str = ""


@dataclass(frozen=True)
class Group:
    kind: str
    label: str
    hits: list[Hit]
    more: bool  # more hits than shown (how many is not said: counting would cost a scan)


@dataclass
class Results:
    query: str
    message: str = ""  # why nothing was searched, or that nothing was found
    groups: list[Group] = field(default_factory=list)

    @property
    def hits(self) -> list[Hit]:
        return [hit for group in self.groups for hit in group.hits]


def normalize(raw: str | None) -> str:
    """The query as searched: spaces collapsed, NUL and other control characters dropped."""
    text = "".join(ch for ch in (raw or "") if ch.isprintable() or ch.isspace())
    return _SPACES.sub(" ", text).strip()


def phone_candidates(query: str) -> list[str]:
    """The digit strings a phone-like query may appear as inside stored phone digits: its own
    digits, and, after an international prefix, those without a country code of one to three
    digits (what remains matches the national form "0 30 1234"). Empty when not phone-like."""
    if not _PHONE_LIKE.match(query):
        return []
    numbers = re.sub(r"\D", "", query)
    if len(numbers) < MIN_PHONE_DIGITS:
        return []
    found = [numbers]
    international = query.startswith("+") or numbers.startswith("00")
    if international:
        rest = numbers[2:] if numbers.startswith("00") else numbers
        found.append(rest)
        code = next((rest[:k] for k in (1, 2) if rest[:k] in _SHORT_COUNTRY_CODES), rest[:3])
        if len(national := rest[len(code) :]) >= MIN_NATIONAL_DIGITS:
            found.append(national)
    return list(dict.fromkeys(found))


def full_email(query: str) -> str | None:
    """The address, lower case, when the query is a whole email address."""
    return query.lower() if _EMAIL.match(query) else None


def similarity_applies(query: str) -> bool:
    """Whether ``query``'s words may be corrected (PostgreSQL): words, not an email, a domain or
    a phone, which are looked for as written."""
    return not (phone_candidates(query) or _ADDRESS.search(query))


def words_of(query: str) -> list[str]:
    """The words a document must contain: those of at least ``MIN_LENGTH`` characters (the
    trigram index cannot look for shorter ones), or the whole query when it has none."""
    found = [word for word in query.split() if len(word) >= MIN_LENGTH]
    return found or [query]


def unknown_words(words: list[str]) -> list[str]:
    """The words the vocabulary may correct: letters only, at least ``MIN_LENGTH`` of them."""
    return [word.lower() for word in words if word.isalpha() and len(word) >= MIN_LENGTH]


def spellings(words: list[str], corrected: dict[str, list[str]]) -> list[list[str]]:
    """What to look for, word by word: the word itself, and for a word the vocabulary lacks,
    its corrections too (any of them will do). The word stays: it may be the start of one
    still being typed ("Marg"), or be newer than the vocabulary."""
    return [[word, *corrected.get(word.lower(), [])] for word in words]


def search(user, raw: str | None, *, limit: int = DROPDOWN_LIMIT) -> Results:
    """What ``user`` finds for ``raw``: up to ``limit`` hits of each kind they may see."""
    query = normalize(raw)
    results = Results(query=query)
    if not query:
        results.message = "Search leads, contacts, accounts, opportunities and contracts."
        return results
    if len(query) > MAX_LENGTH:
        results.message = f"Search for at most {MAX_LENGTH} characters."
        return results
    if len(query) < MIN_LENGTH:
        results.message = f"Type at least {MIN_LENGTH} characters."
        return results
    search_ = _Search(query)
    for kind, label, finder in (
        ("lead", "Leads", search_.leads),
        ("contact", "Contacts", search_.contacts),
        ("account", "Accounts", search_.accounts),
        ("opportunity", "Opportunities", search_.opportunities),
        ("contract", "Contracts", search_.contracts),
    ):
        hits = finder(user, limit + 1)
        if hits:
            results.groups.append(Group(kind=kind, label=label, hits=hits[:limit], more=len(hits) > limit))
    if not results.groups:
        results.message = f"Nothing found for “{query}”."
    return results


def like_escape(text: str) -> str:
    """``text`` for inside a ``LIKE`` pattern with ``ESCAPE '\\'``: ``%`` and ``_`` taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Matches(Lookup):
    """``lhs`` contains the text ``rhs`` whatever the case, ``%`` and ``_`` taken literally:
    ``ILIKE`` on PostgreSQL (a trigram index answers it), ``LIKE`` on SQLite (case-insensitive
    there for ASCII)."""

    lookup_name = "search_matches"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        escaped = like_escape(self.rhs)
        operator = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
        return f"{lhs} {operator} %s ESCAPE '\\'", [*lhs_params, f"%{escaped}%"]


class _Search:
    def __init__(self, query: str):
        self.query = query
        self.lower = query.lower()
        self.phones = phone_candidates(query)
        self.postgres = connection.vendor == "postgresql"
        self.email = full_email(query)
        self.words = words_of(query)
        corrected: dict[str, list[str]] = {}
        if self.postgres and similarity_applies(query):
            corrected = vocabulary.corrections(unknown_words(self.words))
        self.spellings = spellings(self.words, corrected)

    # --- the parts every kind shares -------------------------------------------------------

    def _text(self, label: str) -> Q:
        """The document contains every word; a corrected word, any of its corrections
        (PostgreSQL). Words, not the phrase: the index intersects each word's trigram lists,
        where a phrase adds trigrams across its words and was several times slower at a
        million leads. The corrections are one regular expression (``a|b|c``), which the same
        index answers in the same scan: an ``OR`` of ``ILIKE`` s made the planner scan for the
        other words alone and filter thousands of rows."""
        if self.email:
            return self._address(label)
        expression = document(label)
        rule = Q()
        for options in self.spellings:
            rule &= (
                Q(Matches(expression, options[0]))
                if len(options) == 1
                else Q(MatchesAny(expression, options))
            )
        return rule

    def _address(self, label: str) -> Q:
        """A whole email address: the people with it, the accounts of its domain (unique and
        indexed columns: no document is read)."""
        assert self.email
        if label in ("leads.Lead", "accounts.Contact"):
            return Q(email=self.email)
        if label == "accounts.Account":
            return Q(domain=self.email.rsplit("@", 1)[1])
        return Q(pk__in=[])

    def _phone(self, label: str) -> Q:
        if not self.phones:
            return Q(pk__in=[])
        rule = Q(Matches(digits(label), self.phones[0]))
        for candidate in self.phones[1:]:
            rule |= Q(Matches(digits(label), candidate))
        # The phone index holds only rows with a phone.
        return rule & ~Q(phone="")

    def _contains(self, label: str) -> Case:
        """2 where the document starts with the text as typed, 1 where it contains it: above a
        merely similar one (PostgreSQL), and the order among equally similar ones."""
        expression = document(label)
        return Case(
            When(Q(_Starts(expression, self.query)), then=Value(2)),
            When(Q(Matches(expression, self.query)), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )

    def _rank(self, *labels_or_fields):
        if self.postgres:
            scores = [TrigramWordSimilarity(self.query, expression) for expression in labels_or_fields]
            return scores[0] if len(scores) == 1 else Greatest(*scores)
        return Case(
            *(When(Q(_Starts(expression, self.query)), then=Value(1.0)) for expression in labels_or_fields),
            default=Value(0.0),
        )  # fmt: skip

    def _exact(self, email: bool, phone_label: str | None) -> Case | Value:
        rules = []
        if email:
            rules.append(When(email=self.lower, then=Value(1)))
        if phone_label and self.phones:
            rules.append(When(~Q(phone="") & Q(_Equals(digits(phone_label), self.phones[0])), then=Value(1)))
        return Case(*rules, default=Value(0), output_field=IntegerField()) if rules else Value(0)

    @staticmethod
    def _ranked(visible: QuerySet, rule: Q, limit: int, **ranking) -> QuerySet:
        """The best ``limit`` of the visible rows matching ``rule``, ranked among the first
        ``CANDIDATES`` the index finds: a word shared by tens of thousands of records ("North"
        in 55,000 companies) costs the ranking of a few hundred, not the reading of every match.
        (Ordering the candidates, as a first version did, read all 55,000 rows: 1.5 s.) The
        query's words narrow the matches; the person types more to find one among thousands."""
        candidates = visible.filter(rule).order_by().values("pk")[:CANDIDATES]  # no ordering: see above
        ranked = visible.filter(pk__in=candidates).annotate(**ranking)
        return ranked.order_by("-exact", "-contains", "-rank", "-pk")[:limit]

    # --- the kinds ---------------------------------------------------------------------------

    def leads(self, user, limit: int) -> list[Hit]:
        visible = access.leads(user)
        if visible.query.is_empty():
            return []
        label = "leads.Lead"
        found = self._ranked(
            visible.only("pk", "first_name", "last_name", "email", "company", "phone"),
            self._text(label) | self._phone(label),
            limit,
            exact=self._exact(email=True, phone_label=label),
            contains=self._contains(label),
            rank=self._rank(document(label)),
        )
        return [
            Hit(
                "lead",
                lead.name or lead.email,
                _join(lead.company, lead.email, lead.phone),
                "leads:detail",
                lead.pk,
            )
            for lead in found
        ]

    def contacts(self, user, limit: int) -> list[Hit]:
        visible = access.contacts(user)
        if visible.query.is_empty():
            return []
        label = "accounts.Contact"
        found = self._ranked(
            visible.select_related("account").annotate(opportunity_pk=_first_opportunity(user)),
            self._text(label) | self._phone(label),
            limit,
            exact=self._exact(email=True, phone_label=label),
            contains=self._contains(label),
            rank=self._rank(document(label)),
        )
        hits = []
        for contact in found:
            detail = _join(contact.account.name, contact.email, contact.phone)
            if contact.on_account_page:
                hit = Hit("contact", str(contact), detail, "renewals:account", contact.account_id, "contacts")
            elif contact.on_target_page:
                hit = Hit("contact", str(contact), detail, "accounts:target", contact.account_id)
            else:
                hit = Hit("contact", str(contact), detail, "accounts:opportunity", contact.opportunity_pk)
            hits.append(hit)
        return hits

    def accounts(self, user, limit: int) -> list[Hit]:
        visible = access.accounts(user)
        if visible.query.is_empty():
            return []
        label = "accounts.Account"
        found = self._ranked(
            visible,
            self._text(label),
            limit,
            exact=Case(When(domain=self.lower, then=Value(1)), default=Value(0), output_field=IntegerField()),
            contains=self._contains(label),
            rank=self._rank(document(label)),
        )
        return [
            Hit(
                "account",
                account.name,
                _join(
                    account.domain,
                    "customer" if account.is_customer else "target" if account.is_target else "",
                ),
                "renewals:account" if account.on_account_page else "accounts:target",
                account.pk,
            )
            for account in found
        ]

    def opportunities(self, user, limit: int) -> list[Hit]:
        """By name, which starts with the account's ("Acme: Jane Doe", "Renewal: Acme ...")."""
        visible = access.opportunities(user)
        if visible.query.is_empty():
            return []
        label = "accounts.Opportunity"
        found = self._ranked(
            visible.select_related("account"),
            self._text(label),
            limit,
            exact=Value(0),
            contains=self._contains(label),
            rank=self._rank(document(label)),
        )
        return [
            Hit("opportunity", opportunity.name, _join(opportunity.account.name, opportunity.get_status_display()),
                "accounts:opportunity", opportunity.pk)
            for opportunity in found
        ]  # fmt: skip

    def contracts(self, user, limit: int) -> list[Hit]:
        """By number, or by their account's name or domain."""
        visible = access.contracts(user)
        if visible.query.is_empty():
            return []
        accounts = Account.objects.filter(self._text("accounts.Account")).values("pk")[:CANDIDATES]
        found = self._ranked(
            visible.select_related("account"),
            self._text("renewals.Contract") | Q(account__in=accounts),
            limit,
            exact=Case(When(number=self.query, then=Value(1)), default=Value(0), output_field=IntegerField()),
            contains=self._contains("renewals.Contract"),
            rank=self._rank(document("renewals.Contract"), F("account__name")),
        )
        return [
            Hit("contract", contract.account.name,
                _join(contract.number, f"{contract.start_date:%Y-%m-%d} to {contract.end_date:%Y-%m-%d}",
                      contract.get_status_display()),
                "renewals:contract", contract.pk)
            for contract in found
        ]  # fmt: skip


class MatchesAny(Lookup):
    """``lhs`` contains one of the words ``rhs`` whatever the case: a regular expression of
    alternatives (``~*``), which a trigram index answers (PostgreSQL only)."""

    lookup_name = "search_matches_any"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} ~* %s", [*lhs_params, any_of(self.rhs)]


def any_of(words: list[str]) -> str:
    """A PostgreSQL regular expression matching any of ``words`` literally."""
    return "(" + "|".join(re.sub(r"([^\w\s])", r"\\\1", word) for word in words) + ")"


class _Starts(Lookup):
    """``lhs`` starts with ``rhs`` whatever the case."""

    lookup_name = "search_starts"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        escaped = like_escape(self.rhs)
        operator = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
        return f"{lhs} {operator} %s ESCAPE '\\'", [*lhs_params, f"{escaped}%"]


class _Equals(Lookup):
    lookup_name = "search_equals"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = %s", [*lhs_params, self.rhs]


def _first_opportunity(user):
    from django.db.models import OuterRef, Subquery

    return Subquery(
        access.opportunities(user).filter(contact=OuterRef("pk")).order_by("-pk").values("pk")[:1]
    )


def _join(*parts: str) -> str:
    return " · ".join(part for part in parts if part)
