"""A row of the summary table: one figure beside its baseline and its target."""

from dataclasses import astuple, dataclass

from ..markdown import met

HEADERS = ("figure", "measured", "baseline", "ratio", "target", "met")


@dataclass(frozen=True)
class Row:
    figure: str
    measured: str
    baseline: str
    ratio: str
    target: str
    met: bool | None  # None: no target set

    def cells(self) -> tuple[str, ...]:
        return (*astuple(self)[:-1], met(self.met))


def not_measured(figure: str, note: str, baseline: str = "—") -> Row:
    return Row(figure, f"not measured: {note}", baseline, "—", "—", False)
