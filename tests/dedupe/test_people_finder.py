"""The person duplicate finder: which pairs it proposes, with what evidence, and which not."""

from datetime import UTC, datetime

import pytest

from dedupe import people
from dedupe.keys import KEY_FIELDS, lead_keys
from dedupe.models import DismissedPair, Kind, LeadKey
from leads.models import Lead
from tests.factories import LeadFactory

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def lead(email, first="", last="", company="", phone=""):
    return LeadFactory(email=email, first_name=first, last_name=last, company=company, phone=phone)


def pairs_of(found) -> dict[tuple[int, int], tuple[str, ...]]:
    return {(p.first_id, p.second_id): p.rules for p in found.pairs}


def test_normalised_keys():
    assert people.company_key("Acme GmbH") == people.company_key("ACME gmbh.") == "acme"
    assert people.company_key("Acme, Inc.") == people.company_key("Acme Inc") == "acme"
    assert people.company_key("Müller & Söhne GmbH & Co. KG") == "müller söhne"
    assert people.company_key("Banco S.A.") == "banco"
    assert people.company_key("Incorporated Widgets") == "incorporated widgets"  # only at the end
    assert people.phone_key("+49 30 1234567") == people.phone_key("030-123 4567") == "301234567"
    assert people.phone_key("12 34 56") == ""  # fewer than 7 digits
    assert people.name_key(" Ada ", "LOVELACE") == "ada lovelace"
    assert people.name_key("Ada", "") == ""
    assert people.domain_key("ada@Example.com") == "example.com"
    assert people.domain_key("ada@gmail.com") == ""


def test_same_person_under_another_email_is_found_with_its_evidence():
    a = lead("ada@acme.example", "Ada", "Lovelace", "Acme GmbH")
    b = lead("ada.lovelace@gmail.com", "ada", "lovelace ", "ACME gmbh")
    c = lead("c.babbage@engine.example", "Charles", "Babbage", "Engines Ltd", phone="+44 20 7946 0958")
    d = lead("charles@other.example", "Chuck", "B", "Other", phone="020 7946 0958")
    e = lead("grace@navy.example", "Grace", "Hopper", "US Navy")
    f = lead("g.hopper@navy.example", "Grace", "Hopper", "Harvard")

    found = pairs_of(people.find_people())

    assert found == {
        (a.pk, b.pk): ("company",),
        (c.pk, d.pk): ("phone",),
        (e.pk, f.pk): ("domain",),
    }


def test_different_people_are_not_paired():
    lead("ada@acme.example", "Ada", "Lovelace", "Acme GmbH", phone="030 1111111")
    lead("ada@other.example", "Ada", "Lovelace", "Other AG")  # same name, another company
    lead("bob@acme.example", "Bob", "Lovelace", "Acme GmbH")  # same company, another name
    lead("x@gmail.com", "John", "Smith", "")
    lead("y@gmail.com", "John", "Smith", "")  # same name at a free-mail domain
    lead("z@acme.example", "", "", "Acme GmbH", phone="030 2222222")  # no name
    lead("w@acme.example", "", "", "Acme GmbH", phone="12345")  # too few digits
    lead("v@acme.example", "", "", "", phone="12345")

    assert people.find_people().pairs == []


def test_pairs_matched_by_several_rules_come_first():
    strong_a = lead("ada@acme.example", "Ada", "Lovelace", "Acme", phone="030 1234567")
    strong_b = lead("a.lovelace@acme.example", "Ada", "Lovelace", "Acme Inc.", phone="+49 30 1234567")
    weak_a = lead("c@phone.example", "Carl", "One", phone="040 7654321")
    weak_b = lead("d@other.example", "Dora", "Two", phone="040 7654321")

    found = people.find_people().pairs

    assert [(p.first_id, p.second_id) for p in found] == [(strong_a.pk, strong_b.pk), (weak_a.pk, weak_b.pk)]
    assert found[0].rules == ("company", "phone", "domain") and found[0].strength == 100
    assert found[1].strength == people.RULE_WEIGHTS["phone"]


def test_a_dismissed_pair_is_not_proposed_again():
    a = lead("ada@acme.example", "Ada", "Lovelace", "Acme")
    b = lead("ada2@acme.example", "Ada", "Lovelace", "Acme")
    c = lead("ada3@acme.example", "Ada", "Lovelace", "Acme")
    DismissedPair.objects.create(kind=Kind.LEAD, first_id=a.pk, second_id=b.pk)
    DismissedPair.objects.create(kind=Kind.ACCOUNT, first_id=a.pk, second_id=c.pk)  # another kind

    assert set(pairs_of(people.find_people())) == {(a.pk, c.pk), (b.pk, c.pk)}


def test_a_large_group_is_reported_as_a_group_not_as_pairs():
    switchboard = [
        lead(f"p{i}@big.example", f"P{i}", "Person", f"Firm {i}", phone="+1 800 555 0100") for i in range(6)
    ]

    found = people.find_people(max_group=5)

    assert found.pairs == []
    assert [(g.rule, g.key, g.size) for g in found.groups] == [("phone", "8005550100"[-9:], 6)]
    assert found.groups[0].sample_ids == tuple(x.pk for x in switchboard[:5])


def test_only_the_leads_given_are_searched(inbound_sdr):
    a = lead("ada@acme.example", "Ada", "Lovelace", "Acme")
    b = lead("ada2@acme.example", "Ada", "Lovelace", "Acme")  # nobody's: the SDR does not see it
    Lead.objects.filter(pk=a.pk).update(owner=inbound_sdr)

    assert pairs_of(people.find_people(leads=Lead.objects.visible_to(inbound_sdr))) == {}
    assert set(pairs_of(people.find_people(leads=Lead.objects.all()))) == {(a.pk, b.pk)}


def test_the_stored_keys_give_what_the_leads_themselves_give():
    """The finder groups stored keys (computed in SQL on PostgreSQL, in Python on SQLite); its
    definition computes every lead's keys in Python from the lead (``pairs_by_python``). The
    two give the same pairs, and every stored key is the Python function's."""
    rows = [
        ("ada@acme.example", "Ada", "Lovelace", "Acme GmbH", "+49 (30) 1234-567"),
        ("ada@x.example", "ADA", "Lovelace", "acme, gmbh & co. kg", ""),
        ("b@s.example", "Beatriz", "Silva", "Banco S.A.", "(11) 98765-4321"),
        ("b@t.example", "Beatriz", "Silva", "Banco SA", "011 98765 4321"),
        ("c@y.example", "Chen", "Li", "Y Ltd.", ""),
        ("c2@y.example", "Chen", "Li", "Z Ltd.", ""),
        ("d@z.example", "Dmitri", "K", "Z", "555-0100"),
        ("d2@z.example", "Dmitri", "K", "Z", "555 0100"),
        ("e@gmail.com", "Eve", "Müller", "Müller & Söhne S.L.", "12"),
        ("e2@gmail.com", "Eve", "Müller", "MÜLLER SÖHNE", ""),
    ]
    made = [lead(email, first, last, company, phone) for email, first, last, company, phone in rows]

    found = people.find_people()
    expected, expected_groups = people.pairs_by_python(None, 20)

    assert {(p.first_id, p.second_id, rule) for p in found.pairs for rule in p.rules} == {
        (a, b, rule) for rule, a, b in expected
    }
    assert len(found.pairs) >= 5 and found.groups == expected_groups == []
    stored = {k.lead_id: tuple(getattr(k, f) for f in KEY_FIELDS) for k in LeadKey.objects.all()}
    assert stored == {x.pk: lead_keys(x.first_name, x.last_name, x.company, x.phone, x.email) for x in made}


def test_a_lead_edited_after_a_run_is_grouped_by_its_new_keys():
    a = lead("ada@acme.example", "Ada", "Lovelace", "Acme GmbH")
    b = lead("ada@gmail.com", "Ada", "Lovelace", "Other")
    c = lead("carl@else.example", "Carl", "Three", "Else", phone="040 7654321")
    assert pairs_of(people.find_people()) == {}

    b.company = "ACME Inc."
    b.save()
    c.delete()
    d = lead("dora@else.example", "Dora", "Four", phone="+49 40 7654321")

    assert pairs_of(people.find_people()) == {(a.pk, b.pk): ("company",)}
    assert not LeadKey.objects.filter(lead_id=c.pk).exists()
    assert LeadKey.objects.get(lead_id=d.pk).phone_key == "407654321"


def test_a_lead_written_with_an_old_timestamp_is_keyed_all_the_same():
    """Imports and the demo's history write leads dated in the past: a lead above the highest id
    keyed is refreshed whatever its ``updated_at``."""
    a = lead("ada@acme.example", "Ada", "Lovelace", "Acme")
    people.find_people()
    b = lead("ada2@acme.example", "Ada", "Lovelace", "Acme")
    Lead.objects.filter(pk=b.pk).update(updated_at=datetime(2020, 1, 1, tzinfo=UTC))

    assert pairs_of(people.find_people()) == {(a.pk, b.pk): ("company", "domain")}


def test_the_rebuild_corrects_a_key_no_refresh_sees():
    a = lead("ada@acme.example", "Ada", "Lovelace", "Acme")
    b = lead("ada@other.example", "Ada", "Lovelace", "Other")
    people.find_people()
    Lead.objects.filter(pk=b.pk).update(company="Acme Ltd", updated_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert people.refresh().changed == 0  # written by hand, dated in the past: unseen

    done = people.refresh(full=True)

    assert done.changed == 1 and done.since is None
    assert pairs_of(people.find_people()) == {(a.pk, b.pk): ("company",)}


def test_the_key_tasks_and_command_refresh_the_keys():
    from django.core.management import call_command

    from dedupe import tasks

    a = lead("ada@acme.example", "Ada", "Lovelace", "Acme")
    assert tasks.refresh_keys() == 1
    assert tasks.refresh_keys() == 0
    Lead.objects.filter(pk=a.pk).update(company="Zeta Ltd", updated_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert tasks.rebuild_keys() == 1
    assert LeadKey.objects.get(lead_id=a.pk).company_key == "zeta"
    Lead.objects.filter(pk=a.pk).update(company="Eta", updated_at=datetime(2020, 1, 1, tzinfo=UTC))
    call_command("dedupe_keys", "--rebuild", verbosity=0)
    assert LeadKey.objects.get(lead_id=a.pk).company_key == "eta"
