"""Figure ``propensity``: learning from a million leads' closed history and scoring a million
open leads.

Generated leads with a planted propensity (``propensity.planted``: seniority, channel,
industry, country, employee band and hand-raise with known effects on the log-odds; seeded):
``n`` closed leads, an accepted opportunity (won or lost) for each planted success and
disqualified otherwise, one a minute; and ``n`` open (MQL) leads drawn the same way. The fit
score is the bench profile's (``run.create_configuration``) computed in numpy as the
generator writes the rows.

Measured: ``propensity.services.train`` (read the history in chunks, encode, fit, measure on
the newest 20%; wall seconds, then its peak traced memory in a second run under
``tracemalloc``), beside the bare scikit-learn fit on the same matrix; and
activating the model (``rescore_open_leads``: read, score and write every open lead's
probability; then again with the same model, which writes nothing), beside the bare numpy
scoring of the same matrix. The held-out AUC is reported beside the oracle's (the true
coefficients on the same held-out leads) and the fit score's.
"""

import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from .env import connect

if TYPE_CHECKING:
    from propensity.planted import Drawn
from .timing import Timer

START = datetime(2023, 1, 1, tzinfo=UTC)
COLUMNS = (
    "id, email, first_name, last_name, company, title, seniority, industry, employees, country, phone,"
    " source, status, status_reason, hand_raiser, rating, fit_score, fit_grade, engagement_key, external_id,"
    " external_system, external_status, source_attributes, first_seen_at, captured_at, status_changed_at,"
    " updated_at"
)
OPPORTUNITIES_SQL = """
INSERT INTO accounts_opportunity (
    name, status, origin, kind, budget, budget_note, authority, authority_note, need, need_note, timing,
    timing_note, asked_for_meeting, handed_off_at, accepted_at, rejected_at, reject_reason, reject_note,
    closed_at, lost_reason, lost_note, early_loss, updated_at, account_id, lead_id, owner_id, next_step)
SELECT 'Planted ' || id, status, 'inbound', 'new', 'confirmed', '', 'confirmed', '', 'confirmed', '',
       'confirmed', '', false, captured_at + interval '5 days', captured_at + interval '6 days', NULL, '', '',
       captured_at + interval '20 days', CASE WHEN status = 'lost' THEN 'No budget' ELSE '' END, '', false,
       captured_at, %(account)s, id, %(ae)s, ''
  FROM leads_lead WHERE status IN ('won', 'lost')
"""


@dataclass
class PropensityFigures:
    history: int
    open_leads: int
    generate_seconds: float
    train_seconds: float = 0.0
    read_seconds: float = 0.0  # reading and encoding the history (inside train)
    train_peak_mb: float = 0.0
    bare_fit_seconds: float = 0.0
    matrix_mb: float = 0.0
    auc: float = 0.0
    oracle_auc: float = 0.0
    fit_auc: float = 0.0
    features: int = 0
    score_seconds: float = 0.0
    rescore_same_seconds: float = 0.0  # again with the same model: nothing to write
    scored: int = 0
    bare_score_seconds: float = 0.0
    bare_read_seconds: float = 0.0
    extra: dict = field(default_factory=dict)


def _fit_points(seniority, employees, country) -> np.ndarray:
    """The bench profile's fit score for the planted attributes (its industries and revenue
    never match them): employees 100-5,000 25, C-level/VP/director 20, US/DE/GB/CA 10 points,
    out of 100."""
    points = np.where((employees >= 100) & (employees <= 5000), 25, 0)
    points += np.isin(seniority, ["c_level", "vp", "director"]) * 20
    points += np.isin(country, ["US", "DE", "GB", "CA"]) * 10
    return points


def _letter(score: int) -> str:
    return "A" if score >= 75 else "B" if score >= 50 else "C" if score >= 25 else "D"


def generate(n: int) -> "tuple[Drawn, float]":
    """``n`` closed and ``n`` open planted leads; returns (the closed leads' draw, seconds)."""
    from accounts.models import Account
    from leads.models import NO_ENGAGEMENT
    from propensity import planted
    from team.models import Role, User

    from .csv_import import LEAD_TABLES

    closed = planted.draw(n, seed=7)
    opened = planted.draw(n, seed=8)
    with Timer() as timer:
        with connect() as conn:
            conn.execute(f"TRUNCATE {LEAD_TABLES} RESTART IDENTITY CASCADE")
        ae = User.objects.create(username="bench-propensity-ae", role=Role.AE)
        account = Account.objects.create(name="Bench planted history")
        with connect() as conn, conn.cursor() as cur:
            with cur.copy(f"COPY leads_lead ({COLUMNS}) FROM STDIN") as copy:
                for part, d, offset in ((0, closed, 0), (1, opened, n)):
                    fit = _fit_points(d.seniority, d.employees, d.country)
                    for i in range(n):
                        at = START + timedelta(minutes=i)
                        status = (
                            "mql"
                            if part
                            else ("won" if i % 2 else "lost")
                            if d.accepted[i]
                            else "disqualified"
                        )
                        score = int(fit[i])
                        copy.write_row(
                            (
                                offset + i + 1,
                                f"p{offset + i + 1}@planted.example",
                                "",
                                "",
                                "",
                                "",
                                d.seniority[i],
                                d.industry[i],
                                int(d.employees[i]),
                                d.country[i],
                                "",
                                d.channel[i],
                                status,
                                "",
                                bool(d.hand_raiser[i]),
                                "",
                                score,
                                _letter(score),
                                NO_ENGAGEMENT,
                                "",
                                "",
                                "",
                                "{}",
                                at,
                                at,
                                at,
                                at,
                            )
                        )
            cur.execute("SELECT setval(pg_get_serial_sequence('leads_lead', 'id'), %s)", [2 * n])
            cur.execute(OPPORTUNITIES_SQL, {"account": account.pk, "ae": ae.pk})
            conn.commit()
            conn.execute("VACUUM ANALYZE leads_lead")
            conn.execute("VACUUM ANALYZE accounts_opportunity")
    return closed, timer.seconds


def measure(n: int, log=print) -> PropensityFigures:
    from sklearn.metrics import roc_auc_score

    from propensity import features, history, learning, services
    from propensity.models import Target

    log(f"propensity: generating {n:,} closed and {n:,} open leads with a planted propensity")
    closed, seconds = generate(n)
    figures = PropensityFigures(history=n, open_leads=n, generate_seconds=seconds)
    log(f"propensity: generated in {seconds:.1f} s")

    with Timer() as timer:
        version = services.train(target=Target.ACCEPTED, activate=False)
    figures.train_seconds = timer.seconds
    figures.auc, figures.fit_auc = version.auc or 0.0, version.fit_auc or 0.0
    figures.features = len(version.weights)
    split = round(n * 0.8)
    held = slice(split, n)
    figures.oracle_auc = float(roc_auc_score(closed.accepted[held], closed.log_odds[held]))
    log(
        f"propensity: trained in {timer.seconds:.1f} s; held-out AUC {figures.auc:.4f} (oracle"
        f" {figures.oracle_auc:.4f}, fit score {figures.fit_auc:.4f}), {figures.features} features"
    )

    # The same work in parts: the read and encoding, then the bare fit on the same matrix.
    with Timer() as timer:
        data = services.read_history(Target.ACCEPTED)
    figures.read_seconds = timer.seconds
    vocab = features.Vocabulary(list(version.weights))
    # the model's columns of the features read (the rare ones training left out are -1)
    remap = np.array([vocab.index(k, grow=False) for k in data.vocab.keys] + [-1], dtype=np.int64)
    x = features.to_matrix(remap[data.indices], len(vocab))
    figures.matrix_mb = (x.data.nbytes + x.indices.nbytes + x.indptr.nbytes) / 1e6
    with Timer() as timer:
        learning.fit(x[:split], data.y[:split])
    figures.bare_fit_seconds = timer.seconds
    log(f"propensity: read and encoded in {figures.read_seconds:.1f} s; bare fit {timer.seconds:.1f} s")
    del data, x

    tracemalloc.start()
    services.train(target=Target.ACCEPTED, activate=False)
    figures.train_peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    log(f"propensity: training's peak traced memory {figures.train_peak_mb:.0f} MB")

    with Timer() as timer:  # activating it scores and writes every open lead
        figures.scored = services.activate_version(version=version).rescored
    figures.score_seconds = timer.seconds
    with Timer() as timer:
        services.rescore_open_leads(version=version)
    figures.rescore_same_seconds = timer.seconds
    # bare: the open leads' matrix scored by numpy alone
    with Timer() as timer:
        rows = list(history.open_leads(0, 2 * n + 1).iterator(chunk_size=50_000))
    figures.bare_read_seconds = timer.seconds
    x = features.to_matrix(features.encode([r[1:] for r in rows], vocab), len(vocab))
    del rows
    weights = np.fromiter(version.weights.values(), dtype=np.float64)
    with Timer() as timer:
        learning.sigmoid(learning.log_odds(x, version.intercept, weights))
    figures.bare_score_seconds = timer.seconds
    log(
        f"propensity: scored and wrote {figures.scored:,} open leads in {figures.score_seconds:.1f} s,"
        f" again with the same model {figures.rescore_same_seconds:.1f} s"
        f" (reading them bare {figures.bare_read_seconds:.1f} s; numpy scoring bare {timer.seconds:.3f} s)"
    )
    return figures
