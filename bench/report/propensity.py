"""Figure ``propensity``: training on a million leads' history, scoring a million open leads."""

from ..mdwriter import Paragraph, Section, Table
from ..propensity import PropensityFigures
from .summary import Row

TRAIN_TARGET_S = 120.0
SCORE_TARGET_S = 120.0


def rows(p: PropensityFigures) -> list[Row]:
    return [
        Row(
            f"Propensity training on {p.history:,} leads' closed history",
            f"{p.train_seconds:.1f} s, peak {p.train_peak_mb:.0f} MB traced; held-out AUC {p.auc:.3f}"
            f" (oracle {p.oracle_auc:.3f}, fit score {p.fit_auc:.3f})",
            f"{p.bare_fit_seconds:.1f} s (scikit-learn's fit alone on the same matrix)",
            f"{p.train_seconds / max(p.bare_fit_seconds, 0.001):.1f}x",
            f"< {TRAIN_TARGET_S:g} s",
            p.train_seconds < TRAIN_TARGET_S and abs(p.auc - p.oracle_auc) <= 0.03,
        ),
        Row(
            f"Propensity scoring of {p.open_leads:,} open leads (read, score, write)",
            f"{p.score_seconds:.1f} s",
            f"{p.bare_score_seconds:.3f} s (numpy alone on the same matrix); reading the rows {p.bare_read_seconds:.1f} s",
            f"{p.score_seconds / max(p.bare_score_seconds, 0.001):.0f}x",
            f"< {SCORE_TARGET_S:g} s",
            p.score_seconds < SCORE_TARGET_S,
        ),
    ]


def section(p: PropensityFigures) -> Section:
    table = Table(
        ("step", "seconds"),
        [
            ("generate the history and the open leads (COPY)", f"{p.generate_seconds:.1f}"),
            ("train (read and encode, fit, measure on the newest 20%)", f"{p.train_seconds:.1f}"),
            ("  read and encode the history alone (a second run)", f"{p.read_seconds:.1f}"),
            ("  bare: scikit-learn's fit on the same matrix", f"{p.bare_fit_seconds:.1f}"),
            ("score and write every open lead (activating the model)", f"{p.score_seconds:.1f}"),
            (
                "  again with the same model (reads and scores, writes nothing)",
                f"{p.rescore_same_seconds:.1f}",
            ),
            ("  bare: read the open leads' feature rows", f"{p.bare_read_seconds:.1f}"),
            ("  bare: numpy scoring of the same matrix", f"{p.bare_score_seconds:.3f}"),
        ],
    )
    return Section(
        "Learned propensity (`--only propensity`)",
        [
            Paragraph(
                f"{p.history:,} closed leads with a planted propensity (known coefficients, seeded) and"
                f" {p.open_leads:,} open ones. Training read, encoded and learned {p.features} features in"
                f" {p.train_seconds:.1f} s; its peak traced memory (tracemalloc, a second run) was"
                f" {p.train_peak_mb:.0f} MB, the feature matrix itself {p.matrix_mb:.0f} MB. Held-out AUC"
                f" {p.auc:.4f} against the oracle's {p.oracle_auc:.4f} (the true coefficients on the same"
                f" held-out leads) and the bench profile's fit score {p.fit_auc:.4f}. Scoring wrote"
                f" {p.scored:,} open leads' probabilities in {p.score_seconds:.1f} s.",
            ),
            table,
        ],
    )
