"""What an imported row becomes from the source's status and stage (leads.import_status)."""

import pytest

from leads.import_status import default_status_map, resolve_outcome


@pytest.mark.parametrize(
    ("status", "stage", "outcome"),
    [
        ("Open - Not Contacted", "", "nurture"),
        ("Working - Contacted", "", "mql"),
        ("Closed - Not Converted", "", "disqualified"),
        ("Closed - Converted", "", "customer"),
        ("", "customer", "customer"),
        ("UNQUALIFIED", "customer", "customer"),  # a customer never goes back to marketing
        ("NEW", "opportunity", "review"),
        ("UNQUALIFIED", "lead", "disqualified"),
        ("IN_PROGRESS", "subscriber", "mql"),
        ("", "marketingqualifiedlead", "mql"),
        ("", "", "nurture"),
        ("Something custom", "", "nurture"),
    ],
)
def test_default_outcomes_follow_what_salesforce_and_hubspot_mean(status, stage, outcome):
    assert resolve_outcome({}, status, stage) == outcome


def test_the_import_s_own_map_overrides_the_defaults():
    status_map = {"status:Something custom": "disqualified", "stage:customer": "nurture"}
    assert resolve_outcome(status_map, "Something custom") == "disqualified"
    assert resolve_outcome(status_map, "", "customer") == "nurture"


def test_the_proposed_map_names_every_value_the_file_holds():
    proposed = default_status_map(["NEW", "UNQUALIFIED", ""], ["customer"])
    assert proposed == {
        "status:NEW": "nurture",
        "status:UNQUALIFIED": "disqualified",
        "stage:customer": "customer",
    }
