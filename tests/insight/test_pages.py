"""The insight pages as people use them: the numbers they read, the period in words, the
filters (and their errors), the CSV beside each table, and a fixed number of queries whatever
the data's size.

The facts are written directly (``LeadFact`` rows for leads made by the factory), so each test
knows exactly what it counts: the rollup's own correctness is tests/insight/test_facts.py's.
"""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import time_machine

from insight.models import LeadFact
from team.models import BusinessCalendar
from tests.factories import CampaignFactory, LeadFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

# Wednesday 25 Nov 2026, 12:00 UTC (13:00 in Berlin): the default period is 27 Oct to 25 Nov.
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def fact(*, captured: datetime, **fields) -> LeadFact:
    """A lead and its fact row, as the rollup would leave it."""
    lead = LeadFactory(captured_at=captured)
    return LeadFact.objects.create(lead=lead, captured_at=captured, first_seen_at=captured, **fields)


def funnel_lead(sdr, ae, campaign, *, captured: datetime, accepted: bool = True, amount="1000.00", won=False):
    """A lead that went all the way to an accepted opportunity (and maybe a win)."""
    touch = captured + timedelta(minutes=10)
    return fact(
        captured=captured,
        campaign=campaign,
        channel=campaign.channel if campaign else "",
        source="web",
        team=sdr.team,
        sdr=sdr,
        ae=ae,
        fit_grade="A",
        status="won" if won else "handed_off",
        mql_at=captured + timedelta(minutes=1),
        routed_at=captured + timedelta(minutes=2),
        first_touch_at=touch,
        last_touch_at=touch,
        handed_off_at=captured + timedelta(hours=1),
        accepted_at=captured + timedelta(hours=2) if accepted else None,
        accepted_amount=Decimal(amount) if accepted else None,
        won_at=captured + timedelta(days=3) if won else None,
        won_amount=Decimal(amount) if won else None,
        response_seconds=480,
        response_business_seconds=480,
    )


@pytest.fixture
def history(inbound_sdr, other_sdr, ae):
    """Sam's 3 leads (2 accepted, 1 of them won), Lena's 2 (1 accepted), one old lead outside
    the default period, in the Google Ads and Newsletter campaigns."""
    ads = CampaignFactory(name="Google Ads", channel="paid_search", cost=3000)
    news = CampaignFactory(name="Newsletter", channel="email", cost=0)
    day = datetime(2026, 11, 10, 9, tzinfo=UTC)
    funnel_lead(inbound_sdr, ae, ads, captured=day, amount="1000.00", won=True)
    funnel_lead(inbound_sdr, ae, ads, captured=day + timedelta(days=1), amount="2500.50")
    funnel_lead(inbound_sdr, ae, news, captured=day + timedelta(days=2), accepted=False)
    funnel_lead(other_sdr, ae, ads, captured=day + timedelta(days=3), amount="700.00")
    funnel_lead(other_sdr, ae, news, captured=day + timedelta(days=4), accepted=False)
    funnel_lead(other_sdr, ae, ads, captured=datetime(2026, 6, 1, 9, tzinfo=UTC), amount="9999.00")
    return ads, news


class Tables(HTMLParser):
    """Each <table id="table-..."> as rows of cell texts (header included)."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and (attrs.get("id") or "").startswith("table-"):
            self._table = self.tables.setdefault(attrs["id"].removeprefix("table-"), [])
        elif self._table is not None and tag == "tr":
            self._row = []
        elif self._row is not None and tag in ("td", "th"):
            self._cell = []
            if "empty" in (attrs.get("class") or ""):
                self._row = None  # "Nothing in this period.": no row in the CSV either
                self._cell = None

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables_of(response) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(response.content.decode())
    return parser.tables


def csv_of(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def as_csv(table: list[list[str]]) -> list[list[str]]:
    """The page's table as its CSV must read: the same cells, those a spreadsheet would take
    for a formula (= + - @) behind a quote."""
    return [["'" + c if c[:1] in ("=", "+", "-", "@") else c for c in row] for row in table]


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


# -- the overview -------------------------------------------------------------------------------


def test_manager_reads_the_numbers_and_the_period_in_words(client_for, manager, history):
    response = client_for(manager).get("/insight/")
    assert response.status_code == 200
    text = text_of(response)
    assert "27 Oct 2026 to 25 Nov 2026 (Europe/Berlin)" in text
    # Accepted in the period: Sam's two and Lena's one (the June one is outside).
    assert re.search(r"Qualified opportunities 3 ", text)
    # Headline money compact (a card is narrow), the exact figure in its note and title.
    assert re.search(r"Qualified pipeline €4.2 k their amounts: €4,200.50 ", text)
    assert 'title="€4,200.50">€4.2 k<' in response.content.decode()
    # 1 won of 1 closed.
    assert re.search(r"Win rate 100.0% ", text)
    assert re.search(r"Speed to lead \(median\) 8 min ", text)
    # Spend: Google Ads' 3,000 falls on the day it was created (today): 3,000 over 3 qualified.
    assert "Cost per qualified opportunity" in text
    assert 'id="diagnoses"' in response.content.decode()


def test_a_period_and_filters_narrow_the_numbers(client_for, manager, history, inbound_sdr):
    ads, _ = history
    client = client_for(manager)
    text = text_of(client.get("/insight/", {"start": "2026-11-11", "end": "2026-11-30"}))
    assert "11 Nov 2026 to 30 Nov 2026 (Europe/Berlin)" in text
    assert re.search(r"Qualified opportunities 2 ", text)  # the one of the 10th is out
    text = text_of(client.get("/insight/", {"sdr": inbound_sdr.pk}))
    assert re.search(r"Qualified opportunities 2 ", text)
    text = text_of(client.get("/insight/", {"preset": "year", "campaign": ads.pk}))
    assert "1 Jan 2026 to 25 Nov 2026" in text
    assert re.search(r"Qualified opportunities 4 ", text)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-11-20", "end": "2026-11-01"}, "The last day is before the first day."),
        ({"start": "2025-01-01", "end": "2026-11-01"}, "Choose at most 366 days."),
        ({"start": "1900-01-01"}, "Enter a date between 1990-01-01 and 2100-12-31."),
        ({"start": "yesterday"}, "Enter a date"),
        ({"preset": "decade"}, "Select a valid choice."),
        ({"campaign": "999999"}, "Select a valid choice."),
        ({"channel": "telepathy"}, "Select a valid choice."),
    ],
)
def test_bad_filters_are_form_errors_on_the_page(client_for, manager, params, message):
    response = client_for(manager).get("/insight/funnel/", params)
    assert response.status_code == 400
    assert 'id="filter-errors"' in response.content.decode()
    assert message in text_of(response)


def test_the_period_is_cut_in_the_viewers_time_zone(client_for, manager, inbound_sdr, ae):
    """A lead captured at 23:30 UTC on 31 Oct is 1 Nov in Berlin: in November's cohort there,
    in October's for a viewer on UTC."""
    ads = CampaignFactory(name="Ads", channel="paid_search", cost=0)
    funnel_lead(inbound_sdr, ae, ads, captured=datetime(2026, 10, 31, 23, 30, tzinfo=UTC))
    client = client_for(manager)
    november = {"start": "2026-11-01", "end": "2026-11-25"}
    cohort = tables_of(client.get("/insight/funnel/", november))["cohort"]
    assert cohort[1][:2] == ["First seen", "1"]
    utc = BusinessCalendar.objects.create(name="UTC office", timezone="UTC")
    manager.team.calendar = utc
    manager.team.save(update_fields=["calendar"])
    response = client.get("/insight/funnel/", november)
    assert "(UTC)" in text_of(response)
    assert tables_of(response)["cohort"][1][:2] == ["First seen", "0"]


# -- sections, tables and CSV ---------------------------------------------------------------------


def test_funnel_page_tables_and_their_csv_match(client_for, manager, history):
    client = client_for(manager)
    response = client.get("/insight/funnel/")
    assert response.status_code == 200
    page = tables_of(response)
    cohort = page["cohort"]
    assert cohort[0] == ["Stage", "Leads", "Conversion", "Median time from previous stage"]
    counts = {row[0]: row[1] for row in cohort[1:]}
    assert counts["First seen"] == "5"
    assert counts["Accepted by an AE"] == "3"
    assert counts["Won"] == "1"
    assert "<svg" in response.content.decode() and "<title" in response.content.decode()
    for key in ("cohort", "flow", "slice", "dispositions"):
        download = client.get(f"/insight/funnel/{key}.csv")
        assert download.status_code == 200
        assert download["Content-Type"].startswith("text/csv")
        assert download["Content-Disposition"] == (
            f'attachment; filename="insight-funnel-{key}-2026-10-27-to-2026-11-25.csv"'
        )
        assert csv_of(download) == as_csv(page[key]), key


def test_slice_by_sdr_names_the_sdrs_for_a_manager(client_for, manager, history, inbound_sdr, other_sdr):
    response = client_for(manager).get("/insight/funnel/", {"by": "sdr"})
    slice_rows = {row[0]: row[1] for row in tables_of(response)["slice"][1:]}
    assert slice_rows == {str(inbound_sdr): "3", str(other_sdr): "2"}
    download = client_for(manager).get("/insight/funnel/slice.csv", {"by": "sdr"})
    assert csv_of(download) == as_csv(tables_of(response)["slice"])


def test_csv_cells_that_look_like_formulas_are_defused(client_for, manager, inbound_sdr, ae):
    evil = CampaignFactory(name='=HYPERLINK("http://evil")', channel="web", cost=0)
    funnel_lead(inbound_sdr, ae, evil, captured=datetime(2026, 11, 10, 9, tzinfo=UTC))
    rows = csv_of(client_for(manager).get("/insight/funnel/slice.csv"))
    assert rows[1][0] == '\'=HYPERLINK("http://evil")'


def test_speed_page_shows_decay_and_breaches_per_week(client_for, manager, history):
    client = client_for(manager)
    response = client.get("/insight/speed/")
    assert response.status_code == 200
    page = tables_of(response)
    assert set(page) >= {"speed-rep", "speed-team", "speed-channel", "speed-week", "decay", "breaches"}
    decay = {row[0]: row[1] for row in page["decay"][1:]}
    assert sum(int(v) for v in decay.values()) == 5  # every lead of the cohort in one bucket
    # The weeks of the period, Monday first, in Berlin: 26 Oct to 23 Nov.
    assert [row[0] for row in page["breaches"][1:]] == [
        "26 Oct 2026",
        "2 Nov 2026",
        "9 Nov 2026",
        "16 Nov 2026",
        "23 Nov 2026",
    ]
    for key in ("decay", "breaches", "speed-rep"):
        assert csv_of(client.get(f"/insight/speed/{key}.csv")) == as_csv(page[key]), key


def test_money_page_and_csv(client_for, marketing, history):
    client = client_for(marketing)
    response = client.get("/insight/money/")
    assert response.status_code == 200
    page = tables_of(response)
    by_campaign = {row[0]: row for row in page["by-campaign"][1:]}
    assert page["by-campaign"][0][:7] == [
        "Campaign",
        "Spend",
        "Leads",
        "MQLs",
        "Qualified",
        "Won",
        "Pipeline",
    ]
    assert by_campaign["Google Ads"][2] == "3"  # leads captured in the period
    assert by_campaign["Google Ads"][4] == "3"  # accepted of those (Sam's two, Lena's one)
    assert by_campaign["Google Ads"][6] == "€4,200.50"  # their pipeline
    assert by_campaign["Newsletter"][2:5] == ["2", "2", "0"]
    assert csv_of(client.get("/insight/money/by-campaign.csv")) == as_csv(page["by-campaign"])
    assert csv_of(client.get("/insight/money/pipeline.csv")) == as_csv(page["pipeline"])
    assert by_campaign["Google Ads"][-1] == "-66.7%"  # ROI: (1,000 won - 3,000 spent) / 3,000


def test_retention_page_for_an_am(client_for, am):
    response = client_for(am).get("/insight/retention/")
    assert response.status_code == 200
    assert {"by-month", "by-am", "churn"} <= set(tables_of(response))


def test_rows_behind_a_diagnosis(client_for, manager, history):
    response = client_for(manager).get("/insight/rows/win_rate/")
    assert response.status_code == 200
    assert "Opportunities closed" in text_of(response)
    assert client_for(manager).get("/insight/rows/nonsense/").status_code == 404


def test_format_csv_on_the_page_url(client_for, manager, history):
    client = client_for(manager)
    response = client.get("/insight/funnel/", {"format": "csv", "table": "cohort"})
    assert response["Content-Disposition"].startswith("attachment;")
    assert client.get("/insight/funnel/", {"format": "csv", "table": "nope"}).status_code == 404


def test_htmx_gets_the_results_block_only(client_for, manager, history):
    response = client_for(manager).get("/insight/funnel/", {"preset": "7d"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and 'id="table-cohort"' in body


def test_nav_links_to_insight_for_roles_with_sections(client_for, manager):
    assert 'href="/insight/"' in client_for(manager).get("/insight/").content.decode()


# -- a fixed number of queries ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/insight/", "/insight/funnel/", "/insight/speed/", "/insight/money/", "/insight/retention/"]
)
def test_queries_do_not_grow_with_the_data(
    client_for, manager, inbound_sdr, ae, path, django_assert_max_num_queries
):
    client = client_for(manager)
    ads = CampaignFactory(name="Ads", channel="paid_search", cost=100)
    funnel_lead(inbound_sdr, ae, ads, captured=datetime(2026, 11, 10, 9, tzinfo=UTC))
    client.get(path)  # warm the session and the settings rows
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(path).status_code == 200
    for i in range(30):
        campaign = CampaignFactory(name=f"Campaign {i}", channel="email", cost=10)
        funnel_lead(
            inbound_sdr,
            ae,
            campaign,
            captured=datetime(2026, 11, 1, 9, tzinfo=UTC) + timedelta(hours=i),
            won=i % 2 == 0,
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(path).status_code == 200


# -- what the lead saw in the screenshots ----------------------------------------------------------


def test_headline_money_is_compact_and_tables_keep_exact_amounts(client_for, manager, inbound_sdr, ae):
    """1,446,000.00 overflowed its card at 1280 px: the card says 1.45 M (the exact amount in
    its title and note); the table on the money page keeps the exact amount."""
    ads = CampaignFactory(name="Ads", channel="paid_search", cost=0)
    for i, amount in enumerate(["1000000.00", "400000.00", "46000.00"]):
        funnel_lead(inbound_sdr, ae, ads, captured=datetime(2026, 11, 10 + i, 9, tzinfo=UTC), amount=amount)
    client = client_for(manager)
    response = client.get("/insight/")
    assert re.search(r"Qualified pipeline €1.45 M their amounts: €1,446,000.00 ", text_of(response))
    assert 'title="€1,446,000.00">€1.45 M<' in response.content.decode()
    pipeline = tables_of(client.get("/insight/money/"))["pipeline"]
    assert {row[0]: row[2] for row in pipeline[1:]}["Nov 2026"] == "€1,446,000.00"


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("1446000", "€1.45 M"),
        ("66000", "€66 k"),
        ("980", "€980"),
        ("980.40", "€980"),
        ("0", "€0"),
        ("12.34", "€12.3"),
        ("999999", "€1 M"),
        ("2500000000", "€2.5 B"),
        ("-2500", "-€2.5 k"),
        (None, "—"),
    ],
)
def test_compact_money(amount, shown):
    from insight.tables import compact_money

    assert compact_money(None if amount is None else Decimal(amount)) == shown


def test_diagnoses_say_the_top_reasons_once_and_count_in_the_singular(client_for, manager, inbound_sdr):
    """The AE rejections' reasons were listed in the sentence and again on a line of their own;
    "1 leads" reads wrong."""
    for reason in ["Not the decision maker", "Not the decision maker", "No budget"]:
        handed = datetime(2026, 11, 12, 9, tzinfo=UTC)
        fact(
            captured=handed - timedelta(hours=1),
            team=inbound_sdr.team,
            sdr=inbound_sdr,
            status="handed_off",
            handed_off_at=handed,
            rejected_at=handed + timedelta(hours=1),
            reject_reason=reason,
        )
    fact(  # one lead dropped on the floor: an MQL nobody touched for 9 days
        captured=NOW - timedelta(days=10),
        team=inbound_sdr.team,
        sdr=inbound_sdr,
        status="mql",
        mql_at=NOW - timedelta(days=9),
        routed_at=NOW - timedelta(days=9),
    )
    text = text_of(client_for(manager).get("/insight/"))
    assert text.count("Not the decision maker (2)") == 1
    assert text.count("Top reasons") == 1
    assert "1 lead (threshold 0 leads)" in text
    assert "1 leads" not in text


def test_with_unit_pluralises():
    from insight.views import with_unit

    assert with_unit(1, "contracts") == "1 contract"
    assert with_unit(0, "contracts") == "0 contracts"
    assert with_unit(2, "leads") == "2 leads"
    assert with_unit(12.5, "%") == "12.5%"
    assert with_unit(1, "% of capacity") == "1% of capacity"


def test_dropped_shows_status_labels_longest_idle_first(client_for, manager, inbound_sdr):
    """Status as people read it ("Working (SDR)", not "working"), and one order across statuses:
    the days without a touch, longest first."""
    idle = {
        "Ann": ("mql", 30, None),
        "Ben": ("working", 20, 12),
        "Cat": ("working", 40, 25),
        "Dan": ("mql", 9, None),
    }
    for name, (status, days_in, touched_days_ago) in idle.items():
        lead = LeadFactory(captured_at=NOW - timedelta(days=days_in), first_name=name, last_name="Lee")
        touched = NOW - timedelta(days=touched_days_ago) if touched_days_ago else None
        LeadFact.objects.create(
            lead=lead,
            captured_at=NOW - timedelta(days=days_in),
            first_seen_at=NOW - timedelta(days=days_in),
            team=inbound_sdr.team,
            sdr=inbound_sdr,
            status=status,
            mql_at=NOW - timedelta(days=days_in),
            routed_at=NOW - timedelta(days=days_in),
            first_touch_at=touched,
            last_touch_at=touched,
        )
    dropped = tables_of(client_for(manager).get("/insight/funnel/"))["dropped"]
    assert dropped[0] == ["Lead", "Status", "SDR", "Last touch", "Days without a touch"]
    rows = [(row[0].split()[0], row[1], row[4]) for row in dropped[1:]]
    # Ann: an MQL for 30 days; Cat: touched 25 days ago; Ben: 12; Dan: an MQL for 9.
    assert rows == [
        ("Ann", "MQL", "30"),
        ("Cat", "Working (SDR)", "25"),
        ("Ben", "Working (SDR)", "12"),
        ("Dan", "MQL", "9"),
    ]


def test_a_decay_bucket_without_leads_has_no_rate_and_breaks_the_line(client_for, manager, inbound_sdr, ae):
    """Leads touched in 2 min and in 2 hours, none in between: the buckets between say "no
    leads" (not 0%) and the chart's lines stop there instead of dropping to the floor."""
    ads = CampaignFactory(name="Ads", channel="paid_search", cost=0)
    for seconds in (120, 2 * 3600):
        lead = funnel_lead(inbound_sdr, ae, ads, captured=datetime(2026, 11, 10, 9, tzinfo=UTC))
        lead.response_seconds = seconds
        lead.save(update_fields=["response_seconds"])
    response = client_for(manager).get("/insight/speed/")
    decay = {row[0]: row[1:] for row in tables_of(response)["decay"][1:]}
    assert decay["Under 5 min"] == ["1", "1", "100.0%", "1", "100.0%", "0", "0.0%"]
    assert decay["5\u201330 min"] == ["0", "0", "no leads", "0", "no leads", "0", "no leads"]
    assert decay["1\u20134 h"][:3] == ["1", "1", "100.0%"]
    svg = response.content.decode().split('id="chart-decay-title"')[1].split("</svg>")[0]
    handed_off = svg.split('class="series s-handoff"')[1].split("</g>")[0]
    # Two dots (the two buckets with leads), no line joining them across the empty buckets.
    assert handed_off.count("<circle") == 2
    assert "<polyline" not in handed_off


def test_lines_chart_breaks_at_a_missing_value():
    from insight import charts

    chart = charts.lines("c", "Rates", ["a", "b", "c", "d", "e"], [("S", "s", [50, 40, None, 30, 20])])
    series = chart.series[0]
    assert len(series.points) == 4
    assert len(series.paths) == 2  # a-b and d-e, nothing across c
    assert all(len(path.split()) == 2 for path in series.paths)
    assert "c no leads" in chart.description


@pytest.mark.parametrize("role_user", ["manager", "inbound_sdr", "marketing"])
def test_overview_links_to_the_weekly_summary(client_for, request, role_user):
    user = request.getfixturevalue(role_user)
    response = client_for(user).get("/insight/")
    assert response.status_code == 200
    assert re.search(
        r'<a [^>]*href="/insight/summary/"[^>]*>Your weekly summary</a>', response.content.decode()
    )


# -- the filters that fit the section, and retention's own default period -----------------------


class Form(HTMLParser):
    """The names of the filter form's fields and the period option selected."""

    def __init__(self):
        super().__init__()
        self.names, self.selected, self._in_form, self._select = [], None, False, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == "insight-filters":
            self._in_form = True
        elif self._in_form and tag in ("select", "input") and attrs.get("name"):
            self.names.append(attrs["name"])
            self._select = attrs["name"] if tag == "select" else None
        elif self._in_form and tag == "option" and self._select == "preset" and "selected" in attrs:
            self.selected = attrs.get("value")

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False


def form_of(response) -> Form:
    assert response.status_code == 200
    parser = Form()
    parser.feed(response.content.decode())
    return parser


LEAD_FILTERS = ["campaign", "channel", "source", "team", "origin", "fit_grade"]


@pytest.fixture
def ended_contracts(am):
    """Casey's customers: one churned in June (inside 12 months, outside 30 days), one renewed
    flat at the start of November (inside both)."""
    from datetime import date

    from renewals.services import record_outcome
    from tests.factories import contract, customer

    june = contract(
        customer(am, name="Gone GmbH", domain="gone.example"), end=date(2026, 6, 15), value="30000"
    )
    november = contract(
        customer(am, name="Stays Ltd", domain="stays.example"), end=date(2026, 11, 2), value="10000"
    )
    with time_machine.travel(datetime(2026, 6, 16, 9, tzinfo=UTC), tick=False):
        record_outcome(contract_id=june.pk, by=am, outcome="churned", churn_reason="Chose a competitor")
    with time_machine.travel(datetime(2026, 10, 20, 9, tzinfo=UTC), tick=False):
        record_outcome(contract_id=november.pk, by=am, outcome="renewed")
    return june, november


def test_an_am_sees_the_period_only_and_twelve_months_of_retention(client_for, am, ended_contracts):
    client = client_for(am)
    for url in ("/insight/", "/insight/retention/"):
        response = client.get(url)
        form = form_of(response)
        assert form.names == ["preset", "start", "end"]  # no campaign, channel, team, fit...
        assert form.selected == "12m"
        assert "Last 12 months" in text_of(response)
        assert "1 Dec 2025 to 25 Nov 2026" in text_of(response)
    text = text_of(client.get("/insight/"))
    # 40,000 up for renewal, 10,000 kept: NRR and GRR 25%.
    assert re.search(r"Net revenue retention 25.0% gross 25.0%", text)
    page = tables_of(client.get("/insight/retention/"))
    assert [row[:2] for row in page["churn"][1:]] == [["Chose a competitor", "1"]]
    months = [row[0] for row in page["by-month"][1:]]
    assert months[0] == "Dec 2025" and "Nov 2026" in months and months[-1] == "All" and len(months) == 13
    # A month of renewals is the exception, still there when asked for.
    thirty = tables_of(client.get("/insight/retention/", {"preset": "30d"}))
    assert len(thirty["churn"]) == 1  # the header only: June's churn is out of the period


def test_a_lead_filter_in_the_query_string_is_ignored_by_retention(client_for, am, ended_contracts):
    campaign = CampaignFactory(name="Ads", channel="paid_search", cost=0)
    response = client_for(am).get("/insight/retention/", {"campaign": campaign.pk, "fit_grade": "A"})
    assert response.status_code == 200
    assert [row[:2] for row in tables_of(response)["churn"][1:]] == [["Chose a competitor", "1"]]


def test_a_manager_sees_the_filters_each_section_counts_by(client_for, manager, ended_contracts):
    client = client_for(manager)
    retention = form_of(client.get("/insight/retention/"))
    assert retention.names == ["preset", "start", "end", "am"] and retention.selected == "12m"
    for url in ("/insight/", "/insight/funnel/", "/insight/speed/", "/insight/money/"):
        form = form_of(client.get(url))
        assert form.selected == "30d", url
        assert form.names == ["preset", "start", "end", *LEAD_FILTERS[:4], "sdr", *LEAD_FILTERS[4:]], url


def test_marketing_filters_money_by_campaign_and_channel_without_people(client_for, marketing):
    form = form_of(client_for(marketing).get("/insight/money/"))
    assert form.names == ["preset", "start", "end", *LEAD_FILTERS]  # no SDR: not people's numbers


def test_the_managers_overview_reads_retention_over_twelve_months(
    client_for, manager, am_manager, ended_contracts
):
    # Moe manages the AM team: his overview is 30 days, but the retention card 12 months.
    response = client_for(am_manager).get("/insight/")
    text = text_of(response)
    assert "27 Oct 2026 to 25 Nov 2026" in text
    assert re.search(r"Net revenue retention 25.0% gross 25.0%, last 12 months", text)
    # A period the manager names is the card's too: in the last 30 days only November's renewal.
    text = text_of(client_for(am_manager).get("/insight/", {"preset": "30d"}))
    assert re.search(r"Net revenue retention 100.0% gross 100.0% ", text)


def test_tab_links_do_not_carry_a_default_period_to_another_section(client_for, manager):
    client = client_for(manager)
    html = client.get("/insight/retention/").content.decode()
    assert 'href="/insight/funnel/"' in html or 'href="/insight/funnel/?"' in html
    assert "preset=12m" not in html
    html = client.get("/insight/retention/", {"preset": "90d"}).content.decode()
    assert 'href="/insight/funnel/?preset=90d"' in html


def test_twelve_months_is_this_month_so_far_and_the_eleven_before():
    from datetime import date
    from zoneinfo import ZoneInfo

    from insight.filters import preset_period

    berlin = ZoneInfo("Europe/Berlin")
    assert (p := preset_period("12m", berlin, today=date(2026, 11, 25))).start == date(2025, 12, 1)
    assert p.end == date(2026, 11, 25)
    assert preset_period("12m", berlin, today=date(2027, 1, 1)).start == date(2026, 2, 1)
    assert preset_period("12m", berlin, today=date(2026, 12, 31)).start == date(2026, 1, 1)
