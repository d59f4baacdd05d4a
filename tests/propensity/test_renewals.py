"""The renewal model: contract outcomes learned from the customers' original leads, read as
renewing and, reversed, as churning on the Best customers page; and the admin's roll back."""

from datetime import date, timedelta

import numpy as np
import pytest
from django.urls import reverse

from accounts.models import Opportunity
from propensity import services
from propensity.models import ModelVersion, Target
from renewals.models import Contract


def plant_contracts(seed: int = 3) -> None:
    """A contract term per won planted opportunity, closed: VP and C-level buyers renew far
    more often than the rest (log-odds +2 against -1)."""
    rng = np.random.default_rng(seed)
    won = list(
        Opportunity.objects.filter(status=Opportunity.Status.WON).select_related("lead").order_by("pk")
    )
    contracts = []
    for i, opportunity in enumerate(won):
        z = 2.0 if opportunity.lead.seniority in ("vp", "c_level") else -1.0
        renewed = rng.random() < 1 / (1 + np.exp(-z))
        start = date(2024, 1, 1) + timedelta(days=i % 300)
        contracts.append(
            Contract(
                account_id=opportunity.account_id,
                opportunity=opportunity,
                start_date=start,
                end_date=start + timedelta(days=365),
                annual_value=1000,
                status=Contract.Status.RENEWED if renewed else Contract.Status.CHURNED,
                outcome=Contract.Outcome.RENEWED if renewed else Contract.Outcome.CHURNED,
                churn_reason="" if renewed else "Budget",
                closed_at=opportunity.closed_at + timedelta(days=365 + i % 7),
            )
        )
    Contract.objects.bulk_create(contracts)


@pytest.mark.django_db
def test_renewals_and_churn_are_learned_from_the_customers_leads(planted_history, client_for, manager):
    plant_contracts()

    version = services.train(target=Target.RENEWED)

    assert version.status == ModelVersion.Status.READY
    assert version.outcomes == Contract.objects.count()
    weights = version.weights
    assert weights["seniority=vp"] > 0.5 and weights["seniority=individual"] < -0.5
    body = client_for(manager).get(reverse("propensity:best_customers")).content.decode()
    renewing = body.split('id="model-renewing"')[1].split("</section>")[0]
    churning = body.split('id="model-churning"')[1].split("</section>")[0]
    raises = lambda part: part.split("Lowers the odds")[0]  # noqa: E731
    assert "VP-level title" in raises(renewing)
    assert "VP-level title" not in raises(churning)
    assert "Individual contributor title" in raises(churning)


@pytest.mark.django_db
def test_the_admin_rolls_back_to_an_older_version(planted_history, admin_client):
    old = services.train(target=Target.ACCEPTED)
    new = services.train(target=Target.ACCEPTED)
    assert ModelVersion.objects.active(Target.ACCEPTED) == new

    response = admin_client.post(
        reverse("admin:propensity_modelversion_changelist"),
        {"action": "use_version", "_selected_action": [old.pk]},
        follow=True,
    )

    assert f"Version {old.pk} is in use" in response.content.decode()
    assert ModelVersion.objects.active(Target.ACCEPTED) == old
