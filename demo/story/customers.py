"""The customer base's past: customers who signed two years ago and renewed (or expanded) a year
ago, whose current terms end over the coming months; customers whose term ended in the last
four months with each kind of outcome; the daily renewal runs of the last two months; and an
expansion lead from this morning."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from demo.history import last_at_work, until_at_work, working_day
from leads import services
from leads.models import ActivityKind, ActivitySource

from .common import at_ten

# Customers with a contract history: name, domain, industry, country, employees, annual value,
# days until the current term ends, seats.
CUSTOMERS = [
    ("Orchid Travel", "orchid-travel.example", "Travel", "ES", 150, "18000", 6, 25),
    ("Brightpath Logistics", "brightpath.example", "Logistics", "US", 900, "48000", 14, 120),
    ("Cobalt Insurance", "cobalt-insurance.example", "Financial Services", "DE", 2200, "96000", 27, 300),
    ("Evergreen Health", "evergreen-health.example", "Healthcare", "GB", 1300, "60000", 41, 180),
    ("Juniper Software", "juniper-software.example", "Technology", "US", 350, "24000", 52, 60),
    ("Helios Energy", "helios-energy.example", "Energy", "DE", 4100, "120000", 58, 400),
    ("Kestrel Media", "kestrel-media.example", "Media", "FR", 220, "15000", 73, 40),
    ("Lumen Retail", "lumen-retail.example", "Retail", "CA", 2600, "72000", 86, 240),
    ("Meridian Bank", "meridian-bank.example", "Financial Services", "US", 9000, "180000", 140, 600),
    ("Nimbus Telecom", "nimbus-telecom.example", "Telecommunications", "SE", 5200, "84000", 230, 280),
]
# Customers whose one-year term ended in the last four months, in pairs: the two customers of
# a pair are imported together, so the AMs' round-robin gives one to each AM, and both AMs
# have one of each outcome to read in retention. Name, domain, industry, country, employees,
# annual value, days since the term ended; then the outcome and the new value or the reason.
ENDED_PAIRS = [
    (
        ("Quartz Analytics", "quartz-analytics.example", "Technology", "US", 280, "26000", 35),
        ("Riverside Clinics", "riverside-clinics.example", "Healthcare", "GB", 640, "12000", 40),
        "renewed",
        (None, None),
        "Renewed as is after the QBR.",
    ),
    (
        ("Saffron Foods", "saffron-foods.example", "Consumer Goods", "FR", 1100, "22000", 48),
        ("Tidewater Shipping", "tidewater-shipping.example", "Logistics", "US", 1500, "16000", 55),
        "churned",
        ("Chose a competitor", "Price / budget"),
        "They will not renew: told us on the call.",
    ),
    (
        ("Umber Architects", "umber-architects.example", "Construction", "DE", 420, "54000", 70),
        ("Vantage Robotics", "vantage-robotics.example", "Manufacturing", "US", 760, "36000", 78),
        "downsized",
        ("40000", "30000"),
        "Renewed with fewer seats: they cut their SDR team.",
    ),
    (
        ("Willow Education", "willow-education.example", "Education", "CA", 900, "30000", 100),
        ("Yarrow Pharma", "yarrow-pharma.example", "Pharmaceuticals", "CH", 2400, "20000", 112),
        "expanded",
        ("42000", "26000"),
        "Added the outbound team's seats.",
    ),
]
CUSTOMER_CONTACTS = [
    [("Hannah", "Weber", "VP Sales"), ("Jonas", "Fischer", "Sales Ops Manager")],
    [("Olivia", "Martin", "CRO"), ("Ethan", "Clark", "Head of SDRs")],
    [("Sofia", "Rossi", "Director of Revenue Operations")],
]


def add_customer_stories(replay, now) -> bool:
    """A customer base with a past: each customer signed two years ago and renewed (or
    expanded) a year ago, and the current terms end over the coming months. The daily
    renewal run went every morning of the last two months, as beat would have, so the
    AMs' renewals page has something in every window; some AMs talked to their customers
    soon after a renewal opened, others not yet. Someone at a customer asked for a call
    this morning: an expansion lead for its AM. Only on a database without the demo's
    contracts; returns whether they were planned."""
    from renewals.models import Contract

    if Contract.objects.filter(source=Contract.Source.MANUAL).exists():
        return False
    today = timezone.localdate(now)
    for i, customer in enumerate(CUSTOMERS):
        replay.add(_customer_story(i, customer, today, now))
    for i, pair in enumerate(ENDED_PAIRS):
        replay.add(_ended_pair_story(i, pair, today))
    replay.add(_renewal_runs(today - timedelta(days=65)))
    replay.add(_expansion_story(now - timedelta(hours=2)))
    return True


def _customer_story(i, customer, today, now):
    from accounts.models import Account, Contact
    from renewals.models import Contract, RenewalSettings
    from renewals.services import Terms, add_contracts, add_months, log_conversation, record_outcome

    name, domain, industry, country, employees, value, days_left, seats = customer
    end = today + timedelta(days=days_left)
    start = add_months(end + timedelta(days=1), -12)
    previous_start = add_months(start, -12)
    value = Decimal(value)
    old_value = value if i % 3 else (value * Decimal("0.8")).quantize(Decimal("1"))
    yield at_ten(previous_start)
    account, _ = Account.objects.get_or_create(
        domain=domain,
        defaults={"name": name, "industry": industry, "country": country, "employees": employees},
    )
    (previous,) = add_contracts(
        account=account,
        terms=[
            Terms(
                start_date=previous_start,
                end_date=start - timedelta(days=1),
                annual_value=old_value,
                products="Refinery Team",
                seats=seats,
                auto_renew=i == 4,
                number=f"C-{1000 + i}",
            )
        ],
        by=None,
        source=Contract.Source.MANUAL,
    )
    for first, last, title in CUSTOMER_CONTACTS[i % len(CUSTOMER_CONTACTS)]:
        Contact.objects.get_or_create(
            email=f"{first}.{last}@{domain}".lower(),
            defaults={"account": account, "first_name": first, "last_name": last, "title": title},
        )
    account.refresh_from_db()
    # The AM signed the renewal that morning, in their working hours.
    yield working_day(account.account_manager, start - timedelta(days=20), hours=2)
    account.refresh_from_db()
    am = account.account_manager
    yield from until_at_work(am)
    record_outcome(
        contract_id=previous.pk,
        by=am,
        outcome="renewed" if old_value == value else "expanded",
        annual_value=value,
        note="Signed after the QBR." if old_value == value else "Added the sales team's seats.",
    )
    if i % 3 == 1:
        # This AM called the customer a few days after the renewal opened.
        yield working_day(am, end - timedelta(days=RenewalSettings.load().start_days - 3), hours=1.5)
        note = "Call with their sales lead: happy so far, wants to talk numbers next month."
    elif domain == "cobalt-insurance.example":
        yield last_at_work(am, now - timedelta(hours=1))  # their latest call
        note = "Call with their CFO: happy with the SDR queue, asking about 50 more seats."
    else:
        return
    contract = Contract.objects.active().filter(account=account).first()
    account.refresh_from_db()
    yield from until_at_work(account.account_manager)
    if contract is not None and account.account_manager:
        log_conversation(contract_id=contract.pk, by=account.account_manager, note=note)


def _ended_pair_story(i, pair, today):
    """Two customers imported together, a year-long term each that ended in the last four
    months: the renewal window opened (as the daily run does, before the replayed runs
    begin), the AM called, and recorded the same kind of outcome for both (renewed,
    downsized, expanded or churned with a reason), so retention has churn and NRR/GRR in
    recent months for each AM."""
    from accounts.models import Account, Contact
    from renewals.models import Contract, RenewalSettings
    from renewals.services import (
        Terms,
        add_contracts,
        add_months,
        log_conversation,
        open_windows,
        record_outcome,
    )

    *customers, outcome, values, note = pair
    ends = [today - timedelta(days=customer[6]) for customer in customers]
    starts = [add_months(end + timedelta(days=1), -12) for end in ends]
    yield at_ten(min(starts) - timedelta(days=14))  # signed two weeks before the first term began
    contracts = []
    for j, (name, domain, industry, country, employees, value, _) in enumerate(customers):
        account, _ = Account.objects.get_or_create(
            domain=domain,
            defaults={"name": name, "industry": industry, "country": country, "employees": employees},
        )
        (contract,) = add_contracts(
            account=account,
            terms=[
                Terms(
                    start_date=starts[j],
                    end_date=ends[j],
                    annual_value=Decimal(value),
                    products="Refinery Team",
                    seats=employees // 20,
                    number=f"C-{1100 + 2 * i + j}",
                )
            ],
            by=None,
            source=Contract.Source.MANUAL,
        )
        contracts.append(contract)
        first, last, title = CUSTOMER_CONTACTS[(i + j) % len(CUSTOMER_CONTACTS)][0]
        Contact.objects.get_or_create(
            email=f"{first}.{last}@{domain}".lower(),
            defaults={"account": account, "first_name": first, "last_name": last, "title": title},
        )
    start_days = RenewalSettings.load().start_days
    ams = [Account.objects.get(pk=contract.account_id).account_manager for contract in contracts]
    steps = sorted(
        [
            (datetime.combine(ends[j] - timedelta(days=start_days), time(5, 30), tzinfo=UTC), "open", j)
            for j in (0, 1)
        ]
        # The AM's renewal call ten days into the window, the outcome twelve days before the
        # end, both in the AM's working day.
        + [
            (working_day(ams[j], ends[j] - timedelta(days=start_days - 10), hours=3), "call", j)
            for j in (0, 1)
        ]
        + [(working_day(ams[j], ends[j] - timedelta(days=12), hours=1), "outcome", j) for j in (0, 1)]
    )
    for moment, step, j in steps:
        yield moment
        contract = contracts[j]
        am = Account.objects.get(pk=contract.account_id).account_manager
        if step != "open":
            yield from until_at_work(am)
        if step == "open":
            open_windows(contract_ids=[contract.pk])  # what the daily run does that morning
        elif step == "call":
            log_conversation(contract_id=contract.pk, by=am, note="Renewal call: " + note)
        elif outcome == Contract.Outcome.CHURNED:
            record_outcome(contract_id=contract.pk, by=am, outcome=outcome, churn_reason=values[j], note=note)
        else:
            value = Decimal(values[j]) if values[j] else None
            record_outcome(contract_id=contract.pk, by=am, outcome=outcome, annual_value=value, note=note)


def _renewal_runs(first_day):
    from renewals.services import run_renewals

    day = first_day
    while True:
        yield datetime.combine(day, time(5, 30), tzinfo=UTC)  # beat's daily renewal run
        run_renewals()
        day += timedelta(days=1)


def _expansion_story(moment):
    yield moment
    services.capture_lead(
        email="ethan.clark@brightpath.example",
        via=ActivitySource.WEB_FORM,
        hand_raiser=True,
        activity_kind=ActivityKind.MEETING_REQUEST,
        details={
            "first_name": "Ethan",
            "last_name": "Clark",
            "company": "Brightpath Logistics",
            "title": "Head of SDRs",
            "country": "US",
        },
    )
