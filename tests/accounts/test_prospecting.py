"""Outbound prospecting services: target accounts created and assigned by managers, prospects
added by hand, by CSV or by API with duplicate checks (refused rows reported, the rest created
in one transaction), and prospects walking the same qualify -> handoff path as inbound leads."""

import io
from datetime import UTC, datetime

import pytest
import time_machine

from accounts import services as prospecting
from accounts.models import Account, Contact, Opportunity
from accounts.services import AccountsError, DuplicateDomain, hand_off, prospects
from leads.models import Activity, ActivityKind, ActivitySource, Channel, Lead, LeadEvent
from sdr import services
from sdr.models import Cadence, CadenceStep, Enrollment
from sdr.services import cadences
from team.models import Role
from tests.concurrency import run_concurrently
from tests.factories import LeadFactory, TeamFactory, UserFactory, qualifying, routed_lead
from work.models import WorkItem

TUESDAY_10 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 10:00 in Berlin


def add(account, by, *rows, via=ActivitySource.MANUAL):
    return prospecting.add_prospects(account_id=account.pk, by=by, rows=list(rows), via=via)


def csv_file(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


# --- adding prospects ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_prospect_becomes_a_working_lead_of_the_accounts_sdr_and_a_contact(acme, outbound_sdr):
    result = add(
        acme,
        outbound_sdr,
        {
            "email": " Ada.Lovelace@Acme.com ",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "title": "VP Sales",
        },
    )

    assert result.refused == []
    [added] = result.created
    assert (added.line, added.email) == (1, "ada.lovelace@acme.com")
    lead = Lead.objects.get()
    assert lead.email == "ada.lovelace@acme.com"
    assert lead.status == Lead.Status.WORKING and lead.mql_at is None
    assert lead.owner == outbound_sdr and lead.team == outbound_sdr.team
    assert lead.source == Channel.OUTBOUND
    assert (lead.company, lead.industry, lead.country, lead.employees) == ("Acme", "Software", "DE", 250)
    assert lead.seniority == "vp"
    contact = Contact.objects.get()
    assert contact.account == acme and contact.lead == lead and contact.email == lead.email
    assert (contact.first_name, contact.last_name, contact.title) == ("Ada", "Lovelace", "VP Sales")
    activity = Activity.objects.get(lead=lead)
    assert activity.kind == ActivityKind.IMPORTED and activity.points == 0
    assert activity.source == ActivitySource.MANUAL and activity.actor == outbound_sdr
    captured = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.CAPTURED)
    assert captured.to_status == Lead.Status.WORKING and captured.actor == outbound_sdr
    # Not routed: no first-touch timer and no routing; the SDR works it with a cadence.
    assert not WorkItem.objects.exists()
    assert not LeadEvent.objects.filter(kind=LeadEvent.Kind.ROUTED).exists()


@pytest.mark.django_db
def test_what_a_row_says_wins_over_the_accounts_defaults(acme, outbound_sdr):
    add(
        acme,
        outbound_sdr,
        {
            "email": "jo@acme.com",
            "country": "France",
            "industry": "fintech",
            "employees": "1,200",
            "company": "Ignored Inc",
        },
    )
    lead = Lead.objects.get()
    assert (lead.country, lead.industry, lead.employees, lead.company) == ("FR", "Fintech", 1200, "Acme")


@pytest.mark.django_db
def test_refused_rows_are_reported_with_line_and_reason_and_never_block_the_others(
    acme, outbound_sdr, inbound_sdr
):
    globex = Account.objects.create(name="Globex", domain="globex.com")
    Contact.objects.create(account=globex, email="known.contact@globex.com")
    routed_lead(inbound_sdr, email="known.lead@example.com")
    LeadFactory(email="nurtured@example.com", status=Lead.Status.NURTURE)

    result = add(
        acme,
        outbound_sdr,
        {"email": "new.one@acme.com"},
        {"email": "not an email"},
        {"email": "Known.Lead@example.com"},
        {"email": "known.contact@globex.com"},
        {"email": "NEW.ONE@acme.com"},
        {"email": "nurtured@example.com"},
        {"email": ""},
        {"email": "second@acme.com", "first_name": "x" * 101},
        {"email": "third@acme.com"},
    )

    assert [(a.line, a.email) for a in result.created] == [(1, "new.one@acme.com"), (9, "third@acme.com")]
    reasons = {r.line: (r.email, r.reason) for r in result.refused}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 8]
    assert "is not a valid address" in reasons[2][1]
    assert reasons[3] == ("known.lead@example.com", f"already a lead (status MQL, owned by {inbound_sdr})")
    assert reasons[4] == ("known.contact@globex.com", "already a contact at Globex")
    assert reasons[5] == ("new.one@acme.com", "the same email as line 1")
    assert reasons[6] == ("nurtured@example.com", "already a lead (status Nurture, no owner)")
    assert reasons[7] == ("", "email is missing")
    assert reasons[8] == ("second@acme.com", "first name is longer than 100 characters")
    assert set(Contact.objects.filter(account=acme).values_list("email", flat=True)) == {
        "new.one@acme.com",
        "third@acme.com",
    }
    # The known lead is untouched: no activity was added to it by the refused row.
    assert not Activity.objects.filter(lead__email="known.lead@example.com").exists()


@pytest.mark.django_db
def test_a_contact_that_is_also_a_lead_gives_both_reasons(acme, outbound_sdr):
    add(acme, outbound_sdr, {"email": "ada@acme.com"})
    result = add(acme, outbound_sdr, {"email": "ada@acme.com"})
    assert result.created == []
    assert (
        result.refused[0].reason
        == f"already a contact at Acme; already a lead (status Working (SDR), owned by {outbound_sdr})"
    )
    assert Lead.objects.count() == 1 and Contact.objects.count() == 1


@pytest.mark.django_db
def test_when_every_row_is_refused_nothing_is_written(acme, outbound_sdr):
    result = add(acme, outbound_sdr, {"email": "nope"}, {"email": ""})
    assert result.created == [] and len(result.refused) == 2
    assert not Lead.objects.exists() and not Contact.objects.exists()


@pytest.mark.django_db
def test_valid_rows_are_created_all_or_nothing(acme, outbound_sdr, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Contact.objects, "bulk_create", fail)
    with pytest.raises(RuntimeError):
        add(acme, outbound_sdr, {"email": "a@acme.com"}, {"email": "b@acme.com"})
    assert not Lead.objects.exists() and not Activity.objects.exists() and not LeadEvent.objects.exists()


@pytest.mark.django_db
def test_via_is_recorded_on_the_activity(acme, outbound_sdr):
    add(acme, outbound_sdr, {"email": "api@acme.com"}, via=ActivitySource.API)
    assert Activity.objects.get().source == ActivitySource.API
    with pytest.raises(ValueError, match="via must be one of"):
        add(acme, outbound_sdr, {"email": "x@acme.com"}, via="web_form")


@pytest.mark.django_db
def test_the_teams_manager_may_add_prospects_for_the_sdr(acme, outbound_sdr, other_manager):
    result = add(acme, other_manager, {"email": "ada@acme.com"})
    assert len(result.created) == 1
    assert Lead.objects.get().owner == outbound_sdr  # the account's SDR works it, not the manager


@pytest.mark.django_db
def test_only_the_accounts_sdr_or_their_manager_adds_prospects(acme, manager, inbound_sdr):
    colleague = UserFactory(username="tina", role=Role.OUTBOUND_SDR, team=acme.prospector.team)
    for outsider in (colleague, manager, inbound_sdr):
        with pytest.raises(AccountsError, match="Only the account's outbound SDR"):
            add(acme, outsider, {"email": "ada@acme.com"})
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_an_account_that_is_not_a_target_takes_no_prospects(outbound_sdr, other_manager):
    plain = Account.objects.create(name="Initech", domain="initech.com")
    with pytest.raises(AccountsError, match="is not a target account"):
        add(plain, other_manager, {"email": "bill@initech.com"})


@pytest.mark.django_db
def test_an_sdr_who_left_takes_no_more_prospects(acme, outbound_sdr, other_manager):
    outbound_sdr.is_active = False
    outbound_sdr.save(update_fields=["is_active"])
    with pytest.raises(AccountsError, match="has left"):
        add(acme, other_manager, {"email": "ada@acme.com"})


@pytest.mark.django_db
def test_too_many_rows_are_refused_as_a_whole(acme, outbound_sdr, monkeypatch):
    monkeypatch.setattr(prospects, "MAX_PROSPECT_ROWS", 3)
    with pytest.raises(AccountsError, match="At most 3 prospects at a time; this list has 4"):
        add(acme, outbound_sdr, *({"email": f"p{i}@acme.com"} for i in range(4)))
    assert not Lead.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_reps_adding_the_same_person_at_once_make_one_prospect(acme, outbound_sdr, other_manager):
    outcomes = run_concurrently(
        lambda: add(acme, outbound_sdr, {"email": "ada@acme.com"}, {"email": "bob@acme.com"}),
        lambda: add(acme, other_manager, {"email": "ada@acme.com"}, {"email": "cy@acme.com"}),
    )
    assert all(isinstance(o, prospecting.ProspectResult) for o in outcomes), outcomes
    created = sorted(a.email for o in outcomes for a in o.created)
    refused = [r for o in outcomes for r in o.refused]
    assert created == ["ada@acme.com", "bob@acme.com", "cy@acme.com"]
    assert [r.email for r in refused] == ["ada@acme.com"] and refused[0].reason.startswith("already a")
    assert Lead.objects.filter(email="ada@acme.com").count() == 1
    assert Contact.objects.filter(email="ada@acme.com").count() == 1
    assert Activity.objects.filter(lead__email="ada@acme.com").count() == 1


# --- CSV ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_csv_list_is_added_with_refused_rows_reported_by_file_line(acme, outbound_sdr):
    text = (
        "First Name,Last Name,Email Address,Job Title,Phone,Country\n"
        "Ada,Lovelace,ada@acme.com,CTO,+49 30 1234,Germany\n"
        "\n"
        'Bob,"Multi\nLine",bob@acme.com,Buyer,,\n'
        "Cy,Bad,not-an-email,,,\n"
        "Ada,Again,ADA@acme.com,,,\n"
    )
    result = prospecting.import_prospects(account_id=acme.pk, by=outbound_sdr, file=csv_file(text))

    assert [(a.line, a.email) for a in result.created] == [(2, "ada@acme.com"), (4, "bob@acme.com")]
    assert [(r.line, r.email) for r in result.refused] == [(6, "not-an-email"), (7, "ada@acme.com")]
    assert result.refused[1].reason == "the same email as line 2"
    ada = Lead.objects.get(email="ada@acme.com")
    assert (ada.title, ada.phone, ada.country, ada.source) == ("CTO", "+49 30 1234", "DE", Channel.OUTBOUND)
    assert Activity.objects.get(lead=ada).source == ActivitySource.IMPORT


@pytest.mark.django_db
def test_a_crm_export_with_a_company_column_still_lands_on_the_account(acme, outbound_sdr):
    text = "Lead ID,First Name,Last Name,Company,Email,Lead Source,Created Date\n1,Ada,L,Other Co,ada@acme.com,Web,2025-01-01\n"
    result = prospecting.import_prospects(account_id=acme.pk, by=outbound_sdr, file=csv_file(text))
    assert len(result.created) == 1
    assert Lead.objects.get().company == "Acme" and Lead.objects.get().source == Channel.OUTBOUND


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"First Name,Last Name\nAda,Lovelace\n", "No email column found"),
        (b"", "The file is empty"),
        (b"Email\n", "has a header row but no prospects"),
        ("Email,Name\nada@acme.com,Jos\xe9\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(acme, outbound_sdr, content, message):
    with pytest.raises(AccountsError, match=message) as refused:
        prospecting.import_prospects(account_id=acme.pk, by=outbound_sdr, file=io.BytesIO(content))
    assert refused.value.field == "file"
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_an_unterminated_quote_refuses_its_row_not_the_whole_file(acme, outbound_sdr):
    # csv reads the rest of the file as one cell: that row's email is refused, nothing crashes.
    result = prospecting.import_prospects(
        account_id=acme.pk,
        by=outbound_sdr,
        file=csv_file('Email,Name\nbob@acme.com,Bob\n"ada@acme.com,Ada\n'),
    )
    assert [a.email for a in result.created] == ["bob@acme.com"]
    assert [(r.line, r.reason[:5]) for r in result.refused] == [(3, "email")]


@pytest.mark.django_db
def test_a_file_over_the_row_limit_is_refused_whole(acme, outbound_sdr, monkeypatch):
    monkeypatch.setattr(prospects, "MAX_PROSPECT_ROWS", 2)
    text = "Email\na@acme.com\nb@acme.com\nc@acme.com\n"
    with pytest.raises(AccountsError, match="more than 2 prospects: split it"):
        prospecting.import_prospects(account_id=acme.pk, by=outbound_sdr, file=csv_file(text))
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_a_csv_for_someone_elses_account_is_refused_before_reading(acme, manager):
    with pytest.raises(AccountsError, match="Only the account's outbound SDR"):
        prospecting.import_prospects(account_id=acme.pk, by=manager, file=csv_file("Email\na@acme.com\n"))


# --- target accounts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "domain"),
    [
        ("acme.com", "acme.com"),
        ("  ACME.com ", "acme.com"),
        ("https://www.Acme.com/about?x=1", "acme.com"),
        ("http://shop.acme.co.uk:8080/", "shop.acme.co.uk"),
        ("sales@acme.com", "acme.com"),
        ("acme.com.", "acme.com"),
        ("bücher.de", "bücher.de"),
    ],
)
def test_domains_are_normalized(raw, domain):
    assert prospecting.normalize_domain(raw) == domain


@pytest.mark.parametrize(
    "raw", ["", "   ", "acme", "acme..com", "-acme.com", "ac me.com", "acme_co.com", "x" * 300 + ".com"]
)
def test_what_is_not_a_domain_is_refused(raw):
    with pytest.raises(ValueError, match="domain"):
        prospecting.normalize_domain(raw)


@pytest.mark.django_db
def test_a_manager_creates_a_target_account_for_an_outbound_sdr_of_their_team(other_manager, outbound_sdr):
    account = prospecting.create_target_account(
        by=other_manager, name="  Acme   Corp ", domain="https://www.ACME.com", prospector=outbound_sdr,
        industry="software", country="Germany", employees=250,
    )  # fmt: skip
    account.refresh_from_db()
    assert (account.name, account.domain, account.industry, account.country, account.employees) == (
        "Acme Corp",
        "acme.com",
        "Software",
        "DE",
        250,
    )
    assert account.prospector == outbound_sdr and account.is_target


@pytest.mark.django_db
def test_a_duplicate_domain_is_refused_naming_the_account_that_has_it(other_manager, outbound_sdr, acme):
    with pytest.raises(DuplicateDomain) as refused:
        prospecting.create_target_account(
            by=other_manager, name="Acme again", domain="WWW.acme.com", prospector=outbound_sdr
        )
    assert refused.value.field == "domain" and refused.value.account == acme
    assert (
        str(refused.value)
        == f"Acme already has the domain acme.com (a target account prospected by {outbound_sdr})."
    )
    plain = Account.objects.create(name="Initech", domain="initech.com")
    with pytest.raises(
        DuplicateDomain, match="nobody prospects yet: open it to assign it instead"
    ) as refused:
        prospecting.create_target_account(
            by=other_manager, name="Initech", domain="initech.com", prospector=outbound_sdr
        )
    assert refused.value.account == plain
    assert Account.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "   "}, "name", "Name the company."),
        ({"domain": "acme"}, "domain", "is not a web domain"),
        ({"country": "Atlantis"}, "country", "is not a country we know"),
        ({"employees": -1}, "employees", "cannot be negative"),
        ({"name": "x" * 201}, "name", "longer than 200 characters"),
    ],
)
def test_bad_details_are_refused_on_their_field(other_manager, outbound_sdr, changes, field, message):
    values = {"name": "Acme", "domain": "acme.com", "prospector": outbound_sdr, **changes}
    with pytest.raises(AccountsError, match=message) as refused:
        prospecting.create_target_account(by=other_manager, **values)
    assert refused.value.field == field
    assert not Account.objects.exists()


@pytest.mark.django_db
def test_only_a_manager_creates_and_only_for_their_outbound_sdrs(
    other_manager, manager, outbound_sdr, inbound_sdr
):
    with pytest.raises(AccountsError, match="Only a manager"):
        prospecting.create_target_account(
            by=outbound_sdr, name="Acme", domain="acme.com", prospector=outbound_sdr
        )
    with pytest.raises(AccountsError, match="not in a team you manage") as refused:
        prospecting.create_target_account(by=manager, name="Acme", domain="acme.com", prospector=outbound_sdr)
    assert refused.value.field == "prospector"
    with pytest.raises(AccountsError, match="not an active outbound SDR"):
        prospecting.create_target_account(by=manager, name="Acme", domain="acme.com", prospector=inbound_sdr)
    assert not Account.objects.exists()


@pytest.mark.django_db
def test_a_manager_reassigns_and_unassigns_a_target_account(acme, other_manager, outbound_sdr):
    colleague = UserFactory(username="tina", role=Role.OUTBOUND_SDR, team=outbound_sdr.team)
    prospecting.assign_prospector(account_id=acme.pk, by=other_manager, prospector=colleague)
    acme.refresh_from_db()
    assert acme.prospector == colleague
    prospecting.assign_prospector(account_id=acme.pk, by=other_manager, prospector=None)
    acme.refresh_from_db()
    assert acme.prospector is None and not acme.is_target


@pytest.mark.django_db
def test_a_manager_cannot_take_another_teams_target_account(acme, manager):
    theirs = UserFactory(
        username="otto",
        role=Role.OUTBOUND_SDR,
        team=TeamFactory(name="Outbound 2", kind="outbound", manager=manager),
    )
    with pytest.raises(AccountsError, match="outside the teams you manage"):
        prospecting.assign_prospector(account_id=acme.pk, by=manager, prospector=theirs)
    with pytest.raises(AccountsError, match="Only a manager"):
        prospecting.assign_prospector(account_id=acme.pk, by=acme.prospector, prospector=None)
    acme.refresh_from_db()
    assert acme.prospector.username == "tom"


# --- counts -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_target_list_counts_prospects_active_cadences_and_the_last_touch(acme, outbound_sdr):
    cadence = Cadence.objects.create(name="Outbound")
    CadenceStep.objects.create(cadence=cadence, position=1, day_offset=0, channel="call", instructions="Call")
    with time_machine.travel(TUESDAY_10, tick=False):
        result = add(
            acme, outbound_sdr, {"email": "a@acme.com"}, {"email": "b@acme.com"}, {"email": "c@acme.com"}
        )
        first, second = (a.lead for a in result.created[:2])
        cadences.enroll(lead_id=first.pk, cadence_id=cadence.pk, by=outbound_sdr)
        cadences.enroll(lead_id=second.pk, cadence_id=cadence.pk, by=outbound_sdr)
        cadences.stop(lead_id=second.pk, by=outbound_sdr)
    with time_machine.travel(datetime(2026, 11, 24, 10, 30, tzinfo=UTC), tick=False):
        services.log_touch(lead_id=first.pk, by=outbound_sdr, kind="call", outcome="no_answer")
    empty = Account.objects.create(name="Empty", domain="empty.com", prospector=outbound_sdr)

    rows = {a.pk: a for a in prospecting.with_counts(Account.objects.all())}
    assert (rows[acme.pk].prospect_count, rows[acme.pk].active_cadences) == (3, 0)  # finished after one step
    assert rows[acme.pk].last_touch_at == datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
    assert (rows[empty.pk].prospect_count, rows[empty.pk].active_cadences, rows[empty.pk].last_touch_at) == (
        0,
        0,
        None,
    )
    assert Enrollment.objects.filter(state=Enrollment.State.FINISHED).count() == 1


# --- the same path as inbound leads ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_prospect_is_enrolled_touched_and_handed_off_on_its_own_account(acme, outbound_sdr, ae):
    cadence = Cadence.objects.create(name="Outbound")
    CadenceStep.objects.bulk_create(
        [
            CadenceStep(cadence=cadence, position=1, day_offset=0, channel="call", instructions="Call"),
            CadenceStep(cadence=cadence, position=2, day_offset=2, channel="email", instructions="Mail"),
        ]
    )
    with time_machine.travel(TUESDAY_10, tick=False):
        [added] = add(
            acme, outbound_sdr, {"email": "ada@acme.com", "first_name": "Ada", "last_name": "Lovelace"}
        ).created
        cadences.enroll(lead_id=added.lead.pk, cadence_id=cadence.pk, by=outbound_sdr)
        services.log_touch(lead_id=added.lead.pk, by=outbound_sdr, kind="call", outcome="connected")
        accounts_before, contacts_before = Account.objects.count(), Contact.objects.count()

        opportunity = hand_off(lead_id=added.lead.pk, by=outbound_sdr, qualifying=qualifying(), ae=ae)

    assert opportunity.origin == Opportunity.Origin.OUTBOUND
    assert opportunity.account == acme and opportunity.contact == added.contact
    assert opportunity.sdr == outbound_sdr and opportunity.owner == ae
    assert opportunity.name == "Acme: Ada Lovelace"
    assert (Account.objects.count(), Contact.objects.count()) == (accounts_before, contacts_before)
    assert Lead.objects.get(pk=added.lead.pk).status == Lead.Status.HANDED_OFF
    assert Enrollment.objects.get(lead=added.lead).state == Enrollment.State.STOPPED
    assert WorkItem.objects.open().get().kind == WorkItem.Kind.ACCEPT_HANDOFF
