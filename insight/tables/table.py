"""What a table of the insight pages is: a title, columns and rows of ``Cell`` (text and an
optional link), a foot, a note and the chart drawn from the same rows; and the CSV it
downloads as, cell for cell, safe to open in a spreadsheet."""

import csv
from dataclasses import dataclass, field

from django.http import HttpResponse

from kit.csvfiles import safe_cell

from .. import charts
from ..scope import Scope


@dataclass
class Cell:
    text: str
    href: str = ""


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    numeric: set[int] = field(default_factory=set)  # right-aligned columns
    note: str = ""
    chart: charts.Chart | None = None
    foot: list[Cell] | None = None
    empty: str = "Nothing in this period."
    section: str = ""

    def csv_rows(self) -> list[list[str]]:
        rows = [self.columns] + [[c.text for c in row] for row in self.rows]
        if self.foot:
            rows.append([c.text for c in self.foot])
        return rows


def cells(*values) -> list[Cell]:
    return [v if isinstance(v, Cell) else Cell("" if v is None else str(v)) for v in values]


def csv_response(table: Table, scope: Scope, section: str) -> HttpResponse:
    period = scope.period
    name = f"insight-{section}-{table.key}-{period.start:%Y-%m-%d}-to-{period.end:%Y-%m-%d}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    for row in table.csv_rows():
        writer.writerow([safe_cell(text) for text in row])
    return response
