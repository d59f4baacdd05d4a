"""The arithmetic of learning, on matrices only (no database): fit a regularised logistic
regression, score, and measure on held-out rows. Deterministic: the solver is seeded and
lbfgs on a convex objective has one answer for one input."""

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score

SEED = 17
# Inverse L2 strength: one-hot features, thousands to millions of outcomes; strong enough that
# a category seen a few dozen times does not get an extreme weight.
C = 1.0
CALIBRATION_BINS = 10


@dataclass(frozen=True)
class Fitted:
    intercept: float
    weights: np.ndarray


def fit(x: sparse.csr_matrix, y: np.ndarray) -> Fitted:
    model = LogisticRegression(C=C, solver="lbfgs", max_iter=2000, random_state=SEED)
    model.fit(x, y)
    return Fitted(intercept=float(model.intercept_[0]), weights=model.coef_[0].astype(float))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35.0, 35.0)))


def log_odds(x: sparse.csr_matrix, intercept: float, weights: np.ndarray) -> np.ndarray:
    return np.asarray(x @ weights).ravel() + intercept


def auc(y: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve, or None when the rows hold one class only."""
    if len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, score))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(brier_score_loss(y, p))


def calibration(y: np.ndarray, p: np.ndarray, bins: int = CALIBRATION_BINS) -> list[dict]:
    """Per bin of predicted probability (tenths): how many, the mean predicted, the observed rate."""
    which = np.minimum((p * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        mask = which == b
        n = int(mask.sum())
        if n:
            out.append(
                {
                    "low": b / bins,
                    "high": (b + 1) / bins,
                    "n": n,
                    "predicted": float(p[mask].mean()),
                    "observed": float(y[mask].mean()),
                }
            )
    return out
