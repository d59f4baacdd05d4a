"""What a model sees of a lead: one-hot and binned features, read set-based.

A lead's features come from its own columns and its source (seniority, industry, employee and
revenue bands, country, channel, campaign, hand-raiser, the source system) and from how fast
the SDRs first touched it. Every feature is an indicator (0 or 1); its key says which
(``seniority=vp``, ``employees=51-200``, ``channel=list``), its words say it as a rep would
("VP-level title", "came from a purchased list").

Rows are read with ``values_list`` in a fixed column order (``columns(prefix)``, the same for
a lead, an opportunity's lead or a contract's lead) and encoded a chunk at a time into a
scipy sparse matrix: per column a dict lookup (categories) or ``numpy.searchsorted`` (bands)
gives each row's feature index, so nothing is kept per lead but the matrix itself.

A lead not yet touched has no first-touch feature (its contribution is nothing rather than a
"never touched" that, in closed history, mostly means "dropped": that would mark every new lead
down at capture).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pycountry
from django.db.models import OuterRef, Subquery
from scipy import sparse

from leads.models import TOUCH_KINDS, Activity, Channel, Seniority

# (upper edge inclusive, key label, words); values above the last edge get the last label.
EMPLOYEE_BANDS = (
    (10, "1-10", "1 to 10 employees"),
    (50, "11-50", "11 to 50 employees"),
    (200, "51-200", "51 to 200 employees"),
    (1000, "201-1000", "201 to 1,000 employees"),
    (5000, "1001-5000", "1,001 to 5,000 employees"),
    (None, "5000+", "over 5,000 employees"),
)
REVENUE_BANDS = (
    (1_000_000, "<1M", "revenue under $1M"),
    (10_000_000, "1M-10M", "revenue $1M to $10M"),
    (50_000_000, "10M-50M", "revenue $10M to $50M"),
    (250_000_000, "50M-250M", "revenue $50M to $250M"),
    (1_000_000_000, "250M-1B", "revenue $250M to $1B"),
    (None, "1B+", "revenue over $1B"),
)
FIRST_TOUCH_BANDS = (
    (300, "5m", "first touched within 5 minutes"),
    (3600, "1h", "first touched within an hour"),
    (86_400, "1d", "first touched within a day"),
    (604_800, "1w", "first touched within a week"),
    (None, "later", "first touched after more than a week"),
)

# The lead's columns read for its features, in this order (``columns`` prefixes them).
LEAD_COLUMNS = (
    "seniority",
    "industry",
    "employees",
    "annual_revenue",
    "country",
    "source",
    "campaign_id",
    "hand_raiser",
    "external_system",
    "captured_at",
)
FIRST_TOUCH = "pf_first_touch"
N_COLUMNS = len(LEAD_COLUMNS) + 1


def columns(prefix: str = "") -> tuple[list[str], dict[str, Any]]:
    """The ``values_list`` names and the annotation (the first touch) reading a lead's
    features through ``prefix`` (``""``, ``"lead__"``, ``"opportunity__lead__"``)."""
    first_touch = (
        Activity.objects.filter(lead=OuterRef(f"{prefix}pk"), kind__in=TOUCH_KINDS)
        .order_by("occurred_at")
        .values("occurred_at")[:1]
    )
    return [prefix + c for c in LEAD_COLUMNS] + [FIRST_TOUCH], {FIRST_TOUCH: Subquery(first_touch)}


def lead_row(lead, first_touch_at=None) -> tuple:
    """One lead's feature columns from the object in memory (a capture, the lead page)."""
    return (*(getattr(lead, c) for c in LEAD_COLUMNS), first_touch_at)


def _banded(group: str, bands) -> list[str]:
    return [f"{group}={label}" for _, label, _ in bands]


def _band_index(values: np.ndarray, bands) -> np.ndarray:
    edges = np.array([edge for edge, _, _ in bands[:-1]], dtype=float)
    return np.searchsorted(edges, values, side="left")


@dataclass
class Vocabulary:
    """The features' keys in column order, and their words."""

    keys: list[str] = field(default_factory=list)
    words: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index = {k: i for i, k in enumerate(self.keys)}

    def __len__(self) -> int:
        return len(self.keys)

    def index(self, key: str, grow: bool) -> int:
        found = self._index.get(key)
        if found is None and grow:
            found = self._index[key] = len(self.keys)
            self.keys.append(key)
        return -1 if found is None else found

    def keep(self, mask: np.ndarray) -> "Vocabulary":
        kept = [k for k, m in zip(self.keys, mask, strict=True) if m]
        return Vocabulary(kept, {k: self.words.get(k, k) for k in kept})


def _categorical(vocab: Vocabulary, group: str, values: Sequence, grow: bool) -> np.ndarray:
    lookup: dict[Any, int] = {}
    out = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        col = lookup.get(v)
        if col is None:
            col = lookup[v] = -1 if v is None else vocab.index(f"{group}={v}", grow)
        out[i] = col
    return out


def _bands(vocab: Vocabulary, group: str, values: Sequence, bands, grow: bool, unknown: bool) -> np.ndarray:
    numbers = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    cols = np.array([vocab.index(k, grow) for k in _banded(group, bands)] + [-1], dtype=np.int64)
    out = cols[np.where(np.isnan(numbers), len(bands), _band_index(np.nan_to_num(numbers), bands))]
    if unknown:
        out[np.isnan(numbers)] = vocab.index(f"{group}=unknown", grow)
    return out


def encode(rows: Sequence[tuple], vocab: Vocabulary, *, grow: bool = False) -> np.ndarray:
    """The feature column of each row's indicators: an (n_rows, N_COLUMNS) array of column
    indices, -1 where a row has no feature of that kind or one the vocabulary lacks (``grow``
    adds what training meets). Rows are in ``columns()`` order."""
    if not rows:
        return np.empty((0, N_COLUMNS), dtype=np.int64)
    (seniority, industry, employees, revenue, country, channel, campaign, hand, system, captured, touched) = (
        zip(*rows, strict=True)
    )
    speed = [
        None if t is None or c is None else max((t - c).total_seconds(), 0.0)
        for t, c in zip(touched, captured, strict=True)
    ]
    return np.column_stack(
        [
            _categorical(vocab, "seniority", seniority, grow),
            _categorical(vocab, "industry", [(v or "").strip() for v in industry], grow),
            _bands(vocab, "employees", employees, EMPLOYEE_BANDS, grow, unknown=True),
            _bands(vocab, "revenue", revenue, REVENUE_BANDS, grow, unknown=True),
            _categorical(vocab, "country", [(v or "").upper() for v in country], grow),
            _categorical(vocab, "channel", channel, grow),
            _categorical(vocab, "campaign", campaign, grow),
            _categorical(vocab, "hand_raiser", [True if h else None for h in hand], grow),
            _categorical(vocab, "system", [v or None for v in system], grow),
            _bands(vocab, "first_touch", speed, FIRST_TOUCH_BANDS, grow, unknown=False),
        ]
    )


def to_matrix(indices: np.ndarray, n_features: int) -> sparse.csr_matrix:
    """The 0/1 sparse matrix of rows' feature indices (``encode``'s output), built as CSR
    directly: a row's columns are its valid indices in order, so no coordinate arrays (two
    integers per non-zero) are made on the way."""
    valid = indices >= 0
    indptr = np.zeros(indices.shape[0] + 1, dtype=np.int64)
    np.cumsum(valid.sum(axis=1), out=indptr[1:])
    columns = indices[valid].astype(np.int32)
    data = np.ones(len(columns), dtype=np.float64)
    return sparse.csr_matrix((data, columns, indptr), shape=(indices.shape[0], n_features))


def remap(indices: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Indices after dropping the columns ``mask`` leaves out (they become -1)."""
    new = np.full(len(mask) + 1, -1, dtype=indices.dtype)
    new[:-1][mask] = np.arange(int(mask.sum()), dtype=indices.dtype)
    return new[indices]  # -1 indexes the last slot, which stays -1


def describe(key: str, campaigns: dict[int, str] | None = None) -> str:
    """A feature in words a rep understands."""
    group, _, value = key.partition("=")
    if group == "seniority":
        if not value:
            return "title without a known seniority"
        label = Seniority(value).label
        return "VP-level title" if value == Seniority.VP else f"{label} title"
    if group == "industry":
        return f"industry {value}" if value else "no industry given"
    if group == "country":
        if not value:
            return "no country given"
        country = pycountry.countries.get(alpha_2=value)
        return f"based in {country.name if country else value}"
    if group == "channel":
        try:
            return f"came from {Channel(value).label.lower()}"
        except ValueError:
            return f"came from {value}"
    if group == "campaign":
        name = (campaigns or {}).get(int(value)) if value.isdigit() else None
        return f"campaign {name}" if name else f"campaign #{value}"
    if group == "hand_raiser":
        return "asked for a call"
    if group == "system":
        return f"imported from {value}"
    if group in ("employees", "revenue"):
        if value == "unknown":
            return "employee count unknown" if group == "employees" else "revenue unknown"
        bands = EMPLOYEE_BANDS if group == "employees" else REVENUE_BANDS
        return next((words for _, label, words in bands if label == value), key)
    if group == "first_touch":
        return next((words for _, label, words in FIRST_TOUCH_BANDS if label == value), key)
    return key


def words_for(keys: Iterable[str], campaigns: dict[int, str]) -> dict[str, str]:
    return {k: describe(k, campaigns) for k in keys}
