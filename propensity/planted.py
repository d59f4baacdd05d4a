"""A closed history with a planted propensity: leads whose attributes are drawn at random
(seeded) and whose outcome (an accepted opportunity or not) is drawn from a logistic model
with known coefficients. The tests and the bench learn from it and compare the learned
model with the oracle (the true coefficients) on the same held-out leads.

``draw`` is numpy only (the bench writes its million rows in SQL from it); ``plant`` writes a
small history through the ORM for the tests."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

SENIORITY = {"c_level": 0.8, "vp": 1.0, "director": 0.5, "manager": 0.0, "individual": -0.6, "": -0.3}
CHANNEL = {"list": -1.2, "referral": 0.9, "paid_search": 0.0, "web": 0.2, "event": 0.4}
INDUSTRY = {"Software": 0.7, "Manufacturing": 0.0, "Retail": -0.5, "Healthcare": 0.3}
COUNTRY = {"US": 0.3, "DE": 0.2, "FR": -0.2, "BR": -0.4}
# employee bands (low, high, effect), matching ``features.EMPLOYEE_BANDS``
EMPLOYEES = ((1, 10, -0.8), (11, 50, -0.3), (51, 200, 0.2), (201, 1000, 0.6), (1001, 5000, 0.4))
HAND_RAISER = 1.2
HAND_RAISER_SHARE = 0.1
INTERCEPT = -1.5


@dataclass
class Drawn:
    """Column arrays of ``n`` leads, oldest first, with their true log-odds and outcome."""

    seniority: np.ndarray
    channel: np.ndarray
    industry: np.ndarray
    country: np.ndarray
    employees: np.ndarray
    hand_raiser: np.ndarray
    log_odds: np.ndarray
    accepted: np.ndarray


def _pick(rng: np.random.Generator, table: dict, n: int) -> tuple[np.ndarray, np.ndarray]:
    keys = np.array(list(table), dtype=object)
    which = rng.integers(0, len(keys), n)
    return keys[which], np.array(list(table.values()))[which]


def draw(n: int, seed: int = 7) -> Drawn:
    rng = np.random.default_rng(seed)
    seniority, s_eff = _pick(rng, SENIORITY, n)
    channel, c_eff = _pick(rng, CHANNEL, n)
    industry, i_eff = _pick(rng, INDUSTRY, n)
    country, k_eff = _pick(rng, COUNTRY, n)
    band = rng.integers(0, len(EMPLOYEES), n)
    lows = np.array([b[0] for b in EMPLOYEES])
    highs = np.array([b[1] for b in EMPLOYEES])
    employees = rng.integers(lows[band], highs[band] + 1)
    e_eff = np.array([b[2] for b in EMPLOYEES])[band]
    hand = rng.random(n) < HAND_RAISER_SHARE
    z = INTERCEPT + s_eff + c_eff + i_eff + k_eff + e_eff + HAND_RAISER * hand
    accepted = rng.random(n) < 1.0 / (1.0 + np.exp(-z))
    return Drawn(seniority, channel, industry, country, employees, hand, z, accepted)


def plant(n: int, *, start: datetime, ae, seed: int = 7) -> Drawn:
    """Write ``n`` closed leads (one a minute from ``start``): accepted ones with an accepted
    opportunity (won or lost), the others disqualified. The fit scores are not computed
    (``leads.services.recompute_fit_scores`` does that, set-based)."""
    from accounts.models import Account, Opportunity
    from leads.models import Lead

    d = draw(n, seed)
    account = Account.objects.create(name="Planted history")
    leads = Lead.objects.bulk_create(
        Lead(
            email=f"planted{i}@history.example",
            seniority=d.seniority[i],
            source=d.channel[i],
            industry=d.industry[i],
            country=d.country[i],
            employees=int(d.employees[i]),
            hand_raiser=bool(d.hand_raiser[i]),
            status=(Lead.Status.WON if i % 2 else Lead.Status.LOST)
            if d.accepted[i]
            else Lead.Status.DISQUALIFIED,
            captured_at=start + timedelta(minutes=i),
            first_seen_at=start + timedelta(minutes=i),
            status_changed_at=start + timedelta(minutes=i, days=20),
        )
        for i in range(n)
    )
    Opportunity.objects.bulk_create(
        Opportunity(
            name=f"Planted {i}",
            account=account,
            lead=lead,
            owner=ae,
            status=Opportunity.Status.WON if i % 2 else Opportunity.Status.LOST,
            lost_reason="" if i % 2 else "No budget",
            budget="confirmed",
            authority="confirmed",
            need="confirmed",
            timing="confirmed",
            handed_off_at=lead.captured_at + timedelta(days=5),
            accepted_at=lead.captured_at + timedelta(days=6),
            closed_at=lead.captured_at + timedelta(days=20),
        )
        for i, lead in enumerate(leads)
        if d.accepted[i]
    )
    return d
