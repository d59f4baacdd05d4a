"""One search: what was asked, turned into one query per kind the user may see (so five at most,
whatever the data size), each ranked exact email or phone first, then by similarity.

On PostgreSQL a document matches when it contains the text (``ILIKE``) or when a word run in it
is similar enough (pg_trgm's ``%>``, the word-similarity threshold, 0.6 by default): both are
answered by the document's GIN trigram index, and ``word_similarity`` ranks. On SQLite, which
has no trigrams, a document matches when it contains the text, and a document starting with it
ranks first. A query that looks like a phone number also matches the digits of phones
(``phone_candidates``)."""

import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection
from django.db.models import Case, F, IntegerField, Lookup, Q, QuerySet, Value, When
from django.db.models.functions import Greatest

from accounts.models import Account

from . import access
from .documents import digits, document

MIN_LENGTH = 3  # a trigram: shorter text cannot use the indexes
MAX_LENGTH = 100
DROPDOWN_LIMIT = 5
PAGE_LIMIT = 20
MIN_PHONE_DIGITS = 4
# A query shared by many records is ranked among this many of them (``_Search._ranked``).
CANDIDATES = 200
# After a "+" or "00", the country code (one to three digits) may be written as a 0 at home:
# "+49 30 1234" is "030 1234" in Germany. Dropping it must leave enough digits to mean much.
MIN_NATIONAL_DIGITS = 6
_PHONE_LIKE = re.compile(r"\+?[\d\s().\-/]+\Z")
_SPACES = re.compile(r"\s+")
# An email or a domain ("jane@", "acme.com"): looked for as written, never by similarity.
_ADDRESS = re.compile(r"@|\w\.\w")


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
        found += [rest[k:] for k in range(0, 4) if len(rest[k:]) >= MIN_NATIONAL_DIGITS]
    return list(dict.fromkeys(found))


def similarity_applies(query: str) -> bool:
    """Whether ``query`` is also looked for by similarity (PostgreSQL): words, not an email, a
    domain or a phone, whose trigrams ("com", ".ex", "555") are in most documents."""
    return not (phone_candidates(query) or _ADDRESS.search(query))


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


class Matches(Lookup):
    """``lhs`` contains the text ``rhs`` whatever the case, ``%`` and ``_`` taken literally:
    ``ILIKE`` on PostgreSQL (a trigram index answers it), ``LIKE`` on SQLite (case-insensitive
    there for ASCII)."""

    lookup_name = "search_matches"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        escaped = self.rhs.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        operator = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
        return f"{lhs} {operator} %s ESCAPE '\\'", [*lhs_params, f"%{escaped}%"]


class _Search:
    def __init__(self, query: str):
        self.query = query
        self.lower = query.lower()
        self.phones = phone_candidates(query)
        self.postgres = connection.vendor == "postgresql"
        self.fuzzy = similarity_applies(query)

    # --- the parts every kind shares -------------------------------------------------------

    def _text(self, label: str) -> Q:
        """The document contains the text, or (PostgreSQL, words only) is similar to it. An
        email or a phone is looked for as written: their trigrams ("com", ".ex", "555") are in
        most documents, so a similarity search would recheck a large part of the table."""
        expression = document(label)
        rule = Q(Matches(expression, self.query))
        if self.postgres and self.fuzzy:
            rule |= Q(_WordSimilar(expression, self.query))
        return rule

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
        """The best ``limit`` of the visible rows matching ``rule``: ranked by similarity among
        ``CANDIDATES`` of them, those containing the text first, so a word shared by thousands
        of records ("Anna") costs the ranking of a few hundred, not of thousands. Ordering the
        candidates (a cheap ``ILIKE`` per match) also keeps the planner from a sequential scan
        "until 200 are found", which it chose for a rare match with a ``LIMIT`` alone."""
        candidates = visible.filter(rule).order_by(ranking["contains"].desc()).values("pk")[:CANDIDATES]
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


class _WordSimilar(Lookup):
    """pg_trgm's ``%>``: a run of words in ``lhs`` is similar to ``rhs`` (the word-similarity
    threshold); its GIN trigram index answers it."""

    lookup_name = "search_word_similar"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} %%> {rhs}", [*lhs_params, *rhs_params]


class _Starts(Lookup):
    """``lhs`` starts with ``rhs`` whatever the case."""

    lookup_name = "search_starts"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        escaped = self.rhs.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
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
