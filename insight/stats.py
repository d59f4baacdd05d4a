"""Percentiles computed in the database, the same way on PostgreSQL and SQLite.

PostgreSQL has ``percentile_cont``; SQLite (the demo, the crawl) has not. There the same
continuous percentile is computed with window functions: each row's position in its group
(``ROW_NUMBER``) and the group's size (``COUNT``), the two neighbours of the fractional
position picked by a conditional ``MAX`` and interpolated in the outer ``SELECT``. Either way
it is one query per call, whatever the number of rows, and no value is read into Python but
the answers.

``percentiles`` measures one or several values in the same query, grouped by any
expressions (labels joined from other tables included), and counts rows matching conditions
on the way, so a page asks one question per table it shows. ``percentiles_each`` measures
one value over each of several row sets (a flow: the leads whose MQL, first touch, handoff...
fell in the period) in one statement of ``UNION ALL``-ed parts, so each part reads its own
moment's index instead of one scan for rows matching any of the moments.

Rows are counted with ``COUNT(1)``, not ``COUNT(lead_id)``: a count that names no column lets
PostgreSQL answer from a covering index alone (an index-only scan), without the table.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db import connections
from django.db.models import (
    Aggregate,
    Case,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)

from work.metrics import PercentileCont

from . import answers
from .scope import UNREAD

DEFAULT = "value"


class Seconds(Func):
    """``end - start`` in seconds (a float; NULL when either is NULL), exact to the
    microsecond: PostgreSQL's ``date_part('epoch', ...)`` of the interval (a double straight
    away; ``EXTRACT`` computes a numeric first, a quarter slower over a year's facts, for the
    same values), SQLite's ``django_timestamp_diff`` (Django's own, in microseconds).
    Differences of two moments are what the funnel measures, and a plain number is what both
    backends take a percentile of."""

    output_field = FloatField()
    arity = 2

    def as_sql(self, compiler, connection, **extra):
        end, start = (compiler.compile(e) for e in self.get_source_expressions())
        sql, params = connection.ops.subtract_temporals("DateTimeField", end, start)
        if connection.vendor == "postgresql":
            return f"date_part('epoch', {sql})", params
        return f"({sql} / 1000000.0)", params


@dataclass
class PercentileRow:
    """One group's answer: its group values (by the names given), how many rows it has, the
    counts asked for, and each value's percentiles (None when the group has no value)."""

    group: dict
    rows: int
    counts: dict[str, int] = field(default_factory=dict)
    values: dict[str, dict[float, float | None]] = field(default_factory=dict)

    def get(self, fraction: float, name: str = DEFAULT) -> float | None:
        return self.values[name][fraction]

    @property
    def key(self):
        """The group's value when grouped by one expression, a tuple for several."""
        values = tuple(self.group.values())
        return values[0] if len(values) == 1 else values


def _checked(fractions: Sequence[float]) -> tuple[float, ...]:
    checked = tuple(float(f) for f in fractions)
    if not checked or any(not 0 <= f <= 1 for f in checked):
        raise ValueError("A percentile is a fraction between 0 and 1.")
    return checked


def _named(expressions, default_name: str) -> dict:
    if expressions is None:
        return {}
    if isinstance(expressions, Mapping):
        return dict(expressions)
    if isinstance(expressions, str) or hasattr(expressions, "resolve_expression"):
        return {default_name: expressions}
    return {name: name for name in expressions}  # a sequence of field names


def _expression(value):
    return F(value) if isinstance(value, str) else value


def percentiles(
    queryset: QuerySet,
    value_expr,
    fractions: Sequence[float],
    group_by=None,
    counts: Mapping[str, Q] | None = None,
) -> list[PercentileRow]:
    """The continuous percentiles (``percentile_cont``'s interpolation) of ``value_expr`` at
    each of ``fractions`` over ``queryset``'s rows, per group: one query.

    ``value_expr``: a field name or a numeric expression, or a mapping of names to them to
    measure several values at once (NULL values are left out, as ``percentile_cont`` does).
    ``group_by``: None (one row for everything, even when there are no rows), a field name,
    a sequence of field names, or a mapping of names to expressions. ``counts``: names to
    conditions; each group's ``counts[name]`` is how many of its rows match.
    """
    fractions = _checked(fractions)
    values = {name: _expression(e) for name, e in _named(value_expr, DEFAULT).items()}
    groups = {name: _expression(e) for name, e in _named(group_by, "group").items()}
    counts = dict(counts or {})
    if not values:
        raise ValueError("Name at least one value to measure.")
    queryset = queryset.order_by()
    if connections[queryset.db].vendor == "postgresql":
        return _percentiles_postgresql(queryset, values, fractions, groups, counts)
    return _percentiles_windows(queryset, values, fractions, groups, counts)


def _alias(kind: str, index: int) -> str:
    return f"pct_{kind}{index}"


def rows_counted(condition: Q | None = None) -> Count:
    """``COUNT(1)`` (of the rows matching ``condition``): no column named, so a covering index
    answers it alone (``Count("*")`` refuses a filter)."""
    return Count(Value(1), filter=condition)


def _aggregates(values, fractions, counts) -> dict:
    aggregates: dict[str, Aggregate] = {"pct_rows": rows_counted()}
    aggregates.update({_alias("c", i): rows_counted(q) for i, q in enumerate(counts.values())})
    for i, expression in enumerate(values.values()):
        for j, fraction in enumerate(fractions):
            aggregates[f"pct_v{i}_{j}"] = PercentileCont(
                _as_float(expression), fraction, output_field=FloatField()
            )
    return aggregates


def _percentiles_postgresql(queryset, values, fractions, groups, counts) -> list[PercentileRow]:
    aggregates = _aggregates(values, fractions, counts)
    if groups:
        aliases = {_alias("g", i): e for i, e in enumerate(groups.values())}
        rows = list(queryset.annotate(**aliases).values(*aliases).annotate(**aggregates).order_by())
    else:
        rows = [queryset.aggregate(**aggregates)]
    return [_row(r, values, fractions, groups, counts) for r in rows]


def _as_float(expression):
    """``percentile_cont`` orders by a double precision value: cast whole-number columns."""
    return Func(expression, function="CAST", template="%(function)s(%(expressions)s AS double precision)")


def _row(record: dict, values, fractions, groups, counts) -> PercentileRow:
    return PercentileRow(
        group={name: record[_alias("g", i)] for i, name in enumerate(groups)},
        rows=record["pct_rows"] or 0,
        counts={name: record[_alias("c", i)] or 0 for i, name in enumerate(counts)},
        values={
            name: {
                fraction: (None if record[f"pct_v{i}_{j}"] is None else float(record[f"pct_v{i}_{j}"]))
                for j, fraction in enumerate(fractions)
            }
            for i, name in enumerate(values)
        },
    )


def _windows_sql(queryset, values, fractions, groups, counts, select_first: str = ""):
    """The window-function SQL (SQLite) and its parameters; the inner query is the caller's
    queryset with the groups, values and count flags as named columns. ``select_first``: a
    column written first in the outer ``SELECT`` (a part's number)."""
    connection = connections[queryset.db]
    qn = connection.ops.quote_name
    columns = {_alias("g", i): e for i, e in enumerate(groups.values())}
    columns.update({_alias("v", i): e for i, e in enumerate(values.values())})
    columns.update(
        {
            _alias("c", i): Case(When(q, then=Value(1)), default=Value(0), output_field=IntegerField())
            for i, q in enumerate(counts.values())
        }
    )
    inner = queryset.annotate(**columns).values(*columns)
    inner_sql, params = inner.query.sql_with_params()
    group_columns = [qn(_alias("g", i)) for i in range(len(groups))]
    partition = f"PARTITION BY {', '.join(group_columns)}" if group_columns else ""

    windows = []
    for i in range(len(values)):
        v = qn(_alias("v", i))
        windows.append(
            f"ROW_NUMBER() OVER ({partition} ORDER BY {v} IS NULL, {v}) AS {qn(f'pct_r{i}')}, "
            f"COUNT({v}) OVER ({partition}) AS {qn(f'pct_n{i}')}"
        )
    selects = [*([select_first] if select_first else []), *group_columns, "COUNT(*) AS pct_rows"]
    selects += [f"COALESCE(SUM({qn(_alias('c', i))}), 0) AS {qn(_alias('c', i))}" for i in range(len(counts))]
    for i in range(len(values)):
        v, r, n = qn(_alias("v", i)), qn(f"pct_r{i}"), qn(f"pct_n{i}")
        for j, fraction in enumerate(fractions):
            f = repr(fraction)  # a checked float: safe to write into the SQL
            low = f"MAX(CASE WHEN {r} = CAST({f} * ({n} - 1) AS INTEGER) + 1 THEN {v} END)"
            high = f"MAX(CASE WHEN {r} = CAST({f} * ({n} - 1) AS INTEGER) + 2 THEN {v} END)"
            position = f"({f} * (MAX({n}) - 1))"
            selects.append(
                f"({low} + (COALESCE({high}, {low}) - {low}) "
                f"* ({position} - CAST({position} AS INTEGER))) AS {qn(f'pct_v{i}_{j}')}"
            )
    sql = (
        f"SELECT {', '.join(selects)} FROM "
        f"(SELECT pct_inner.*, {', '.join(windows)} FROM ({inner_sql}) pct_inner) pct_windowed"
    )
    if group_columns:
        sql += f" GROUP BY {', '.join(group_columns)}"

    return sql, params, inner


def _percentiles_windows(queryset, values, fractions, groups, counts) -> list[PercentileRow]:
    """The same answer with window functions (SQLite)."""
    connection = connections[queryset.db]
    sql, params, inner = _windows_sql(queryset, values, fractions, groups, counts)
    resolved = [inner.query.annotations[_alias("g", i)] for i in range(len(groups))]
    converters = [
        (e, connection.ops.get_db_converters(e) + e.get_db_converters(connection)) for e in resolved
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c[0] for c in cursor.description]
        fetched = cursor.fetchall()
    rows = []
    for raw in fetched:
        record = dict(zip(names, raw, strict=True))
        for i, (expression, functions) in enumerate(converters):
            for convert in functions:
                record[_alias("g", i)] = convert(record[_alias("g", i)], expression, connection)
        rows.append(_row(record, values, fractions, groups, counts))
    return rows


def percentiles_each(parts: Mapping[str, tuple], fractions: Sequence[float]) -> dict[str, PercentileRow]:
    """For each named part ``(queryset, value_expr)`` or ``(queryset, value_expr, counts)``:
    its row count, the counts asked for and the percentiles of its value or values (a field
    name, an expression, a mapping of names to them, or None to only count), all in one
    statement of ``UNION ALL``-ed parts: PostgreSQL runs them side by side, each on its own
    index, SQLite one after the other. Every part answers, with 0 rows when it has none."""
    full = {name: _ungrouped(*part) for name, part in parts.items()}
    grouped = percentiles_grouped_each(full, fractions)
    return {
        name: rows[0] if rows else _empty_row(_named(full[name][1], DEFAULT), fractions, full[name][2])
        for name, rows in grouped.items()
    }


def _ungrouped(queryset, value, counts=None) -> tuple:
    return queryset, value, counts or {}, None


def _empty_row(values, fractions, counts) -> PercentileRow:
    return PercentileRow(
        group={},
        rows=0,
        counts=dict.fromkeys(counts, 0),
        values={v: dict.fromkeys(fractions) for v in (values or {DEFAULT: None})},
    )


def percentiles_grouped_each(
    parts: Mapping[str, tuple], fractions: Sequence[float], generation=UNREAD
) -> dict[str, list[PercentileRow]]:
    """``percentiles`` for several questions at once: each named part is ``(queryset,
    value_expr, counts, group_by)`` as ``percentiles`` takes them, and answers the rows
    ``percentiles`` would (one for an ungrouped part, even without rows; one per group
    found otherwise), all in one statement of ``UNION ALL``-ed parts. The parts may read
    different rows and group differently: PostgreSQL runs them side by side in its parallel
    workers (a page's tables cost the slowest part, not their sum), SQLite one by one. The
    statement's rows are remembered until the facts change (``insight.answers``; pass the
    facts' ``generation`` when the caller has read it)."""
    fractions = _checked(fractions)
    if not parts:
        raise ValueError("Name at least one part to measure.")
    connection = connections[next(iter(parts.values()))[0].db]
    specs = []
    for queryset, value, counts, group_by in parts.values():
        values = {name: _expression(e) for name, e in _named(value, DEFAULT).items()}
        groups = {name: _expression(e) for name, e in _named(group_by, "group").items()}
        specs.append((queryset.order_by(), values, dict(counts or {}), groups))
    value_names = list(dict.fromkeys(name for _, values, _, _ in specs for name in values))
    count_names = list(dict.fromkeys(name for _, _, counts, _ in specs for name in counts))
    group_columns = [(i, k) for i, (_, _, _, groups) in enumerate(specs) for k in range(len(groups))]
    compiled, converters, types = [], {}, {}
    for i, (queryset, values, counts, groups) in enumerate(specs):
        aliases = {_alias("g", k): e for k, e in enumerate(groups.values())}
        if connection.vendor == "postgresql":
            part = (
                queryset.annotate(pct_part=Value(i), **aliases)
                .values("pct_part", *aliases)
                .annotate(**_aggregates(values, fractions, counts))
            )
            sql, part_params = part.query.sql_with_params()
            resolved = part.query.annotations
        else:  # the window functions need a value to order by: a NULL one when only counting
            measured = values or {DEFAULT: Value(None, output_field=FloatField())}
            sql, part_params, inner = _windows_sql(
                queryset, measured, fractions, groups, counts, select_first=f"{i} AS pct_part"
            )
            resolved = inner.query.annotations
        for k in range(len(groups)):
            e = resolved[_alias("g", k)]
            converters[(i, k)] = (e, connection.ops.get_db_converters(e) + e.get_db_converters(connection))
            # A part's column is NULL in the other parts; PostgreSQL types a UNION's column
            # from its parts in order and reads two NULLs as text: each NULL is typed there.
            if connection.vendor == "postgresql":
                types[(i, k)] = e.output_field.cast_db_type(connection)
        compiled.append((sql, part_params))
    statements, params = [], []
    nulls = {"count": "NULL", "value": "NULL"}
    if connection.vendor == "postgresql":
        nulls = {"count": "CAST(NULL AS bigint)", "value": "CAST(NULL AS double precision)"}
    for i, ((sql, part_params), (_, values, counts, _)) in enumerate(zip(compiled, specs, strict=True)):
        columns = ["pct_part", "pct_rows"]
        columns += [_typed(_alias("g", k) if p == i else "NULL", types, p, k) for p, k in group_columns]
        local = {name: k for k, name in enumerate(counts)}
        columns += [_alias("c", local[n]) if n in local else nulls["count"] for n in count_names]
        local = {name: k for k, name in enumerate(values)}
        columns += [
            f"pct_v{local[n]}_{j}" if n in local else nulls["value"]
            for n in value_names
            for j in range(len(fractions))
        ]
        names = ["pct_part", "pct_rows"] + [f"g_g{p}_{k}" for p, k in group_columns]
        names += [f"g_c{k}" for k in range(len(count_names))]
        names += [f"g_v{k}_{j}" for k in range(len(value_names)) for j in range(len(fractions))]
        selects = ", ".join(f"{c} AS {n}" for c, n in zip(columns, names, strict=True))
        statements.append(f"SELECT {selects} FROM ({sql}) pct_part{i}")
        params.extend(part_params)
    columns, raw_rows = answers.fetch(connection.alias, " UNION ALL ".join(statements), params, generation)
    records = [dict(zip(columns, raw, strict=True)) for raw in raw_rows]
    found: dict[str, list] = {name: [] for name in parts}
    names = list(parts)
    for record in records:
        i = record["pct_part"]
        _, values, counts, groups = specs[i]
        group = {}
        for k, name in enumerate(groups):
            value = record[f"g_g{i}_{k}"]
            expression, functions = converters[(i, k)]
            for convert in functions:
                value = convert(value, expression, connection)
            group[name] = value
        found[names[i]].append(
            PercentileRow(
                group=group,
                rows=record["pct_rows"] or 0,
                counts={c: record[f"g_c{count_names.index(c)}"] or 0 for c in counts},
                values={
                    v: {f: _float(record[f"g_v{value_names.index(v)}_{j}"]) for j, f in enumerate(fractions)}
                    for v in values
                }
                or {DEFAULT: dict.fromkeys(fractions)},
            )
        )
    for name, (_, values, counts, groups) in zip(names, specs, strict=True):
        if not groups and not found[name]:  # an ungrouped question always has its one row
            found[name].append(_empty_row(values, fractions, counts))
    return found


def _typed(column: str, types: dict, part: int, k: int) -> str:
    """The column cast to its group's SQL type on PostgreSQL (as is on SQLite)."""
    db_type = types.get((part, k))
    return f"CAST({column} AS {db_type})" if db_type else column


def _float(value) -> float | None:
    return None if value is None else float(value)
