"""Figure 10: global search (``--only search``). The queues and opportunities generators' data
set (a million leads, 200 SDRs, 100,000 opportunities with their accounts and contacts), its
leads given realistic names, companies and phones (200 first names: each matches ~5,000 leads;
20,000 companies; phones written in three national and international ways); then the search
dropdown (``GET /search/?q=`` as htmx) timed for an SDR and a manager on typical queries, beside
the bare SQL doing the same trigram lookup on the leads, with the plans of those statements."""

import random
from dataclasses import dataclass, field
from time import perf_counter_ns as time_ns

from ..env import connect
from ..timing import Timed, Timer, percentile

WARMUP = 3
FIRST_NAMES = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Donald", "Anna", "Maria", "John", "James",
    "Robert", "Michael", "William", "David", "Richard", "Joseph", "Thomas", "Charles", "Mary", "Patricia",
    "Jennifer", "Linda", "Elizabeth", "Susan", "Jessica", "Sarah", "Karen", "Nancy", "Lisa", "Betty", "Sandra",
    "Ashley", "Kimberly", "Emily", "Donna", "Michelle", "Carol", "Amanda", "Melissa", "Deborah", "Stephanie",
    "Rebecca", "Laura", "Sharon", "Cynthia", "Kathleen", "Amy", "Shirley", "Angela", "Helen", "Brenda", "Pamela",
    "Nicole", "Samantha", "Katherine", "Emma", "Ruth", "Christine", "Catherine", "Debra", "Rachel", "Carolyn",
    "Janet", "Virginia", "Heather", "Diane", "Julie", "Joyce", "Victoria", "Kelly", "Christina", "Lauren", "Joan",
    "Evelyn", "Olivia", "Judith", "Megan", "Cheryl", "Martha", "Andrea", "Frances", "Hannah", "Jacqueline",
    "Ann", "Gloria", "Jean", "Kathryn", "Alice", "Teresa", "Sara", "Janice", "Doris", "Madison", "Julia", "Grace",
    "Judy", "Abigail", "Marie", "Denise", "Beverly", "Amber", "Theresa", "Marilyn", "Danielle", "Diana", "Brittany",
    "Natalie", "Sophia", "Rose", "Isabella", "Alexis", "Kayla", "Charlotte", "Daniel", "Matthew", "Anthony",
    "Mark", "Paul", "Steven", "Andrew", "Kenneth", "Joshua", "Kevin", "Brian", "George", "Timothy", "Ronald",
    "Edward", "Jason", "Jeffrey", "Ryan", "Jacob", "Gary", "Nicholas", "Eric", "Jonathan", "Stephen", "Larry",
    "Justin", "Scott", "Brandon", "Benjamin", "Samuel", "Gregory", "Alexander", "Frank", "Patrick", "Raymond",
    "Jack", "Dennis", "Jerry", "Tyler", "Aaron", "Jose", "Adam", "Nathan", "Henry", "Douglas", "Zachary", "Peter",
    "Kyle", "Ethan", "Walter", "Noah", "Jeremy", "Christian", "Keith", "Roger", "Terry", "Gerald", "Harold",
    "Sean", "Austin", "Carl", "Arthur", "Lawrence", "Dylan", "Jesse", "Jordan", "Bryan", "Billy", "Joe", "Bruce",
    "Gabriel", "Logan", "Albert", "Willie", "Alan", "Juan", "Wayne", "Elijah", "Randy", "Roy", "Vincent",
    "Ralph", "Eugene", "Russell", "Bobby", "Mason", "Philip", "Louis", "Lukas", "Jonas", "Felix", "Leon",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker",
    "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson",
    "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Mueller", "Schmidt", "Schneider",
    "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Dubois", "Lefebvre", "Moreau",
    "Laurent", "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Tanaka", "Suzuki", "Watanabe",
]  # fmt: skip
COMPANY_WORDS = [
    "Bright", "North", "Blue", "Silver", "Iron", "Green", "Swift", "Clear", "Summit", "Harbor", "Pioneer",
    "Granite", "Cedar", "Falcon", "Atlas", "Nova", "Vertex", "Quantum", "Lumen", "Orbit",
]  # fmt: skip
COMPANY_NOUNS = [
    "Systems", "Logistics", "Analytics", "Dynamics", "Networks", "Labs", "Robotics", "Energy", "Health",
    "Capital", "Software", "Foods", "Media", "Motors", "Textiles", "Pharma", "Insurance", "Partners",
    "Solutions", "Industries",
]  # fmt: skip
COMPANIES = 20_000  # words x nouns x 50 places

# Realistic people, companies and phones on the generated leads (ids 1..n): one statement.
NAMES_SQL = """
UPDATE leads_lead SET
    first_name = (%(first)s::text[])[1 + (id * 7) %% cardinality(%(first)s::text[])],
    last_name = (%(last)s::text[])[1 + (id / 7) %% cardinality(%(last)s::text[])],
    company = (%(words)s::text[])[1 + (id %% %(companies)s) %% cardinality(%(words)s::text[])] || ' '
        || (%(nouns)s::text[])[1 + (id %% %(companies)s) / cardinality(%(words)s::text[])
                                 %% cardinality(%(nouns)s::text[])]
        || ' ' || (ARRAY['Berlin', 'Boston', 'Austin', 'Lyon', 'Leeds'])[1 + (id %% %(companies)s) / 400 %% 5]
        || ' ' || ((id %% %(companies)s) / 2000 + 1),
    email = lower((%(first)s::text[])[1 + (id * 7) %% cardinality(%(first)s::text[])]) || '.'
        || lower((%(last)s::text[])[1 + (id / 7) %% cardinality(%(last)s::text[])]) || '.' || id
        || '@company' || (id %% %(companies)s) || '.example',
    phone = CASE id %% 3
        WHEN 0 THEN '030-' || lpad((id * 37 %% 10000000)::text, 7, '0')
        WHEN 1 THEN '+1 (415) ' || lpad((id %% 1000)::text, 3, '0') || '-' || lpad((id / 1000 %% 10000)::text, 4, '0')
        ELSE '+44 20 ' || lpad((id * 13 %% 100000000)::text, 8, '0')
    END
WHERE id <= %(n)s
"""


@dataclass
class Case:
    """One query typed by one person, timed."""

    who: str
    what: str
    query: str
    ms: list[float] = field(default_factory=list)
    queries: int = 0
    hits: int = 0
    first_hit: str = ""
    sql_ms: list[float] = field(default_factory=list)  # the bare trigram lookup on the leads
    plan: str = ""

    @property
    def p50_ms(self) -> float:
        return percentile(self.ms, 50)

    @property
    def p95_ms(self) -> float:
        return percentile(self.ms, 95)

    @property
    def sql_p95_ms(self) -> float:
        return percentile(self.sql_ms, 95)


@dataclass
class SearchFigures(Timed):
    leads: int
    opportunities: int
    requests: int  # per case
    generate_seconds: float
    names_seconds: float
    index_seconds: float
    index_sizes: dict[str, str]
    cases: list[Case]
    small_queries: list[int]  # the same cases' query counts on the small data set (the tests')
    ms: list[float] = field(default_factory=list)

    @property
    def queries(self) -> list[int]:
        return [case.queries for case in self.cases]


def _index_sql(schema_editor, drop: bool) -> list[str]:
    from django.apps import apps

    from search.documents import DOCUMENT_FIELDS, indexes

    statements = []
    for label in DOCUMENT_FIELDS:
        for index in indexes(label):
            if drop:
                statements.append(f'DROP INDEX IF EXISTS "{index.name}"')
            else:
                statements.append(str(index.create_sql(apps.get_model(label), schema_editor)))
    return statements


def generate(n: int, opportunities: int, campaigns: list[int], log=print):
    """The queues and opportunities data sets without the search indexes (a GIN index makes a
    bulk insert slow: production builds them once, as the migration does), the names, then the
    indexes built and timed."""
    from django.db import connection

    from .. import opportunities as opportunity_bench
    from ..insight.data import retire_earlier_people

    if retired := retire_earlier_people():
        log(f"search: retired {retired} teams of the earlier figures (their names are the generators')")
    with connection.schema_editor() as editor:
        for statement in _index_sql(editor, drop=True):
            editor.execute(statement)
    with Timer() as generating:
        data = opportunity_bench.generate(opportunities, campaigns=campaigns, queue_leads=n)
    log(f"search: generated in {generating.seconds:.1f} s: {data.counts}")
    params = {
        "first": FIRST_NAMES, "last": LAST_NAMES, "words": COMPANY_WORDS, "nouns": COMPANY_NOUNS,
        "companies": COMPANIES, "n": data.leads,
    }  # fmt: skip
    with connect() as conn, Timer() as naming:
        conn.execute(NAMES_SQL, params)
        # the contacts made from leads carry the lead's person
        conn.execute(
            "UPDATE accounts_contact c SET first_name = l.first_name, last_name = l.last_name, phone = l.phone"
            " FROM leads_lead l WHERE c.lead_id = l.id"
        )
        # and the opportunities are named as a handoff names them: "<account>: <person>"
        conn.execute(
            "UPDATE accounts_opportunity o SET name = left(a.name || ': ' || l.first_name || ' ' || l.last_name, 200)"
            " FROM leads_lead l, accounts_account a WHERE o.lead_id = l.id AND a.id = o.account_id"
        )
    log(f"search: names, companies and phones in {naming.seconds:.1f} s")
    with connect() as conn, Timer() as indexing:
        conn.execute("SET maintenance_work_mem = '512MB'")
        with connection.schema_editor() as editor:
            statements = _index_sql(editor, drop=False)
        for statement in statements:
            conn.execute(statement)
        for table in ("leads_lead", "accounts_contact", "accounts_account", "accounts_opportunity"):
            conn.execute(f"VACUUM ANALYZE {table}")
        conn.execute("CHECKPOINT")
        sizes: dict[str, str] = dict(
            conn.execute(
                "SELECT relname, pg_size_pretty(pg_relation_size(oid)) FROM pg_class"
                " WHERE relname LIKE 'search\\_%%' ORDER BY relname"
            ).fetchall()
        )
    log(f"search: GIN trigram indexes built in {indexing.seconds:.1f} s: {sizes}")
    return data, generating.seconds, naming.seconds, indexing.seconds, sizes


def _cases(sdr) -> list[Case]:
    """Typical queries, each about a lead the person may see."""
    from leads.models import Lead

    own = Lead.objects.filter(owner=sdr).order_by("pk")
    lead = own.filter(phone__startswith="030-")[1]  # a German number, written nationally
    other = own.exclude(pk=lead.pk).order_by("-pk")[3]
    typo = (
        other.company.replace("y", "i", 1)
        if "y" in other.company
        else other.company[:-3] + other.company[-2:]
    )
    national = lead.phone.removeprefix("030-")
    cases = []
    for who in ("SDR", "manager"):
        cases += [
            Case(who, "an exact email", lead.email),
            Case(who, "a company name with a typo", typo.replace("a", "e", 1)),
            Case(who, "a partial phone, written internationally", f"+49 30 {national[:3]} {national[3:5]}"),
            Case(who, "a first name (~5,000 leads each)", "Margaret"),
            Case(who, "a word in 55,000 companies", "North"),
            Case(who, "a first and last name", f"{other.first_name} {other.last_name}"),
        ]
    return cases


def _lead_sql(case: Case, person) -> tuple[str, list]:
    """The bare statement doing the leads' part of the search: the same lookups on the same
    indexes (every word contained, or every word of a corrected query; a whole email by its
    unique index), the same bounded candidates and ranking, six rows. The vocabulary's
    corrections are read first, as the search does (``_corrections_sql``)."""
    from search import vocabulary
    from search.query import (
        CANDIDATES,
        any_of,
        full_email,
        like_escape,
        normalize,
        phone_candidates,
        spellings,
        words_of,
    )

    query = normalize(case.query)

    doc = "(first_name || ' ' || last_name || ' ' || email || ' ' || company)"
    params: list = []
    if email := full_email(query):
        where = "email = %s"
        params.append(email)
    else:
        words = words_of(query)
        unknown = _unknown_words(query, words)
        ands = []
        for options in spellings(words, vocabulary.corrections(unknown) if unknown else {}):
            if len(options) == 1:
                ands.append(f"{doc} ILIKE %s")
                params.append(f"%{like_escape(options[0])}%")
            else:
                ands.append(f"{doc} ~* %s")
                params.append(any_of(options))
        where = "(" + " AND ".join(ands) + ")"
        for candidate in phone_candidates(query):
            where += " OR (phone <> '' AND REGEXP_REPLACE(phone, '[^0-9]+', '', 'g') LIKE %s)"
            params.append(f"%{candidate}%")
    owner = ""
    if person.is_sdr:
        owner = " AND owner_id = %s"
        params.append(person.pk)
    escaped = like_escape(query)
    sql = (
        "SELECT id, first_name, last_name, email, company, phone FROM leads_lead"
        f" WHERE id IN (SELECT id FROM leads_lead WHERE ({where}){owner} LIMIT {CANDIDATES})"
        f" ORDER BY (email = %s) DESC, {doc} ILIKE %s DESC, word_similarity(%s, {doc}) DESC, id DESC LIMIT 6"
    )
    return sql, [*params, query.lower(), f"%{escaped}%", query]


def _unknown_words(query: str, words: list[str]) -> list[str]:
    from search.query import similarity_applies, unknown_words

    return unknown_words(words) if similarity_applies(query) else []


def _corrections_sql(case: Case) -> tuple[str, list] | None:
    """The vocabulary lookup the search makes before its queries, when it makes one."""
    from search import vocabulary
    from search.query import normalize, words_of

    query = normalize(case.query)
    if unknown := _unknown_words(query, words_of(query)):
        return vocabulary.CORRECTIONS_SQL, [unknown, vocabulary.MIN_SIMILARITY, vocabulary.SUGGESTIONS]
    return None


def reused(log=print):
    """The data set an earlier run left in the bench database (``python -m bench.search``)."""
    from types import SimpleNamespace

    from team.models import Role, User

    with connect() as conn:
        leads = conn.execute("SELECT count(*) FROM leads_lead").fetchone()[0]
        opportunities = conn.execute("SELECT count(*) FROM accounts_opportunity").fetchone()[0]
        sizes = dict(
            conn.execute(
                "SELECT relname, pg_size_pretty(pg_relation_size(oid)) FROM pg_class"
                " WHERE relname LIKE 'search\\_%%' ORDER BY relname"
            ).fetchall()
        )
    reps = list(
        User.objects.filter(role=Role.INBOUND_SDR, username__startswith="q-", is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    log(f"search: reusing {leads:,} leads and {opportunities:,} opportunities")
    return SimpleNamespace(leads=leads, opportunities=opportunities, reps=reps), 0.0, 0.0, 0.0, sizes


def measure(
    n: int, opportunities: int, requests: int, campaigns: list[int], log=print, reuse: bool = False
) -> SearchFigures:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from team.models import Role, User

    data, generate_seconds, names_seconds, index_seconds, sizes = (
        reused(log) if reuse else generate(n, opportunities, campaigns, log=log)
    )
    call_command("collectstatic", interactive=False, verbosity=0)
    sdr = User.objects.get(pk=data.reps[0])
    manager = sdr.team.manager if sdr.team else None
    if manager is None or manager.role != Role.MANAGER:
        raise RuntimeError(f"{manager} is not a manager")
    people = {"SDR": sdr, "manager": manager}
    cases = _cases(sdr)
    client = Client(HTTP_HOST="127.0.0.1")
    sessions = {}
    for who, person in people.items():
        login = Client()
        login.force_login(person)
        sessions[who] = login.cookies[settings.SESSION_COOKIE_NAME].value

    def get(case: Case) -> bytes:
        client.cookies[settings.SESSION_COOKIE_NAME] = sessions[case.who]
        response = client.get("/search/", {"q": case.query}, HTTP_HX_REQUEST="true")
        if response.status_code != 200:
            raise RuntimeError(f"/search/ answered {response.status_code} for {case.who} {case.query!r}")
        return response.content

    rng = random.Random(10)
    order = [case for case in cases for _ in range(requests)]
    rng.shuffle(order)
    for case in cases:
        for _ in range(WARMUP):
            get(case)
        with CaptureQueriesContext(connection) as captured:
            body = get(case).decode()
        case.queries = len(captured.captured_queries)
        case.hits = body.count('class="search-hit"')
        first = body.split('class="search-title">', 1)
        case.first_hit = first[1].split("<", 1)[0] if len(first) > 1 else ""
        sql, params = _lead_sql(case, people[case.who])
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
            case.plan = "\n".join(row[0] for row in cursor.fetchall())
    log(f"search: {len(cases)} cases x {requests} requests, shuffled")
    for case in order:
        start = time_ns()
        get(case)
        case.ms.append((time_ns() - start) / 1e6)
    with connection.cursor() as cursor:
        for case in cases:
            sql, params = _lead_sql(case, people[case.who])
            for _ in range(WARMUP):
                cursor.execute(sql, params)
                cursor.fetchall()
            corrections = _corrections_sql(case)
            for _ in range(requests):
                start = time_ns()
                if corrections:
                    cursor.execute(*corrections)
                    cursor.fetchall()
                cursor.execute(sql, params)
                cursor.fetchall()
                case.sql_ms.append((time_ns() - start) / 1e6)
    for case in cases:
        log(
            f"search: {case.who}, {case.what} ({case.query!r}): p50 {case.p50_ms:.1f} ms, p95 {case.p95_ms:.1f} ms,"
            f" {case.queries} queries, {case.hits} hits, first {case.first_hit!r}; bare SQL p95 {case.sql_p95_ms:.2f} ms"
        )
    figures = SearchFigures(
        leads=data.leads, opportunities=data.opportunities, requests=requests, generate_seconds=generate_seconds,
        names_seconds=names_seconds, index_seconds=index_seconds, index_sizes=sizes, cases=cases,
        small_queries=[], ms=[ms for case in cases for ms in case.ms],
    )  # fmt: skip
    for problem in missing_indexes(figures):
        log(f"search: WARNING: {problem}")
    return figures


def missing_indexes(figures: SearchFigures) -> list[str]:
    """Cases whose bare lookup scanned the whole leads table rather than an index (the
    trigram indexes, or for an SDR the owner's index when their own leads are fewer)."""
    return [
        f"{case.who}, {case.what}: the leads' lookup is a sequential scan"
        for case in figures.cases
        if "Seq Scan on leads_lead" in case.plan
    ]
