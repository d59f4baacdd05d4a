"""A row of the summary table: one figure beside its baseline and its target."""

from dataclasses import dataclass

from ..mdwriter import met

HEADERS = ("figure", "measured", "baseline", "ratio", "target", "met")


@dataclass(frozen=True)
class Row:
    figure: str
    measured: str
    baseline: str
    ratio: str
    target: str
    met: bool | None  # None: no target set
    # The figure could not be measured as meant (a page failed, the rollup failed): a smoke
    # run in CI fails on it, whatever the figures.
    missing: bool = False

    def cells(self) -> tuple[str, ...]:
        return (self.figure, self.measured, self.baseline, self.ratio, self.target, met(self.met))


def not_measured(figure: str, note: str, baseline: str = "—") -> Row:
    return Row(figure, f"not measured: {note}", baseline, "—", "—", False, missing=True)
