"""Storing many rows at once: new ones (``insert``) and changed fields of known ones (``update``).

``insert`` writes model instances the way ``bulk_create`` does, but on PostgreSQL through
``COPY``: Django's ``bulk_create`` prepares every value through its field and psycopg then
quotes the batch as arrays for ``UNNEST`` in Python, which cost an import of 100,000 rows more
time than the rest of its work; ``COPY`` formats the rows in psycopg's C code. With
``with_ids`` the primary keys are first taken from the table's sequence (one query), so the
instances know their ids, as after ``bulk_create``.

``update`` writes, for each instance, the fields it changed and only those: on PostgreSQL the
rows are COPYed into a temporary table and one ``UPDATE ... FROM`` sets each column on the rows
that changed it (Django's ``bulk_update`` builds a ``CASE`` per row and field in Python).

A database error in a COPY is raised as Django's (``IntegrityError`` for a unique email taken
meanwhile), as from any query, so callers can retry on it.

Elsewhere (SQLite, the embedded mode) they are ``bulk_create`` and ``bulk_update``.

The values are taken as the instances hold them, with the adaptation ``get_db_prep_save``
would do for the types the project's models use: JSON wrapped for psycopg, ``auto_now``
stamped, a ``db_default`` left to the database when every instance left it. A type that needs
more than that (a custom field with its own ``get_db_prep_value``) is refused, so a new field
cannot silently be stored wrong.
"""

import operator
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, models, transaction
from django.db.models import NOT_PROVIDED, Field, Lookup
from django.db.models.expressions import DatabaseDefault
from psycopg.types.json import Jsonb


def insert(model: type[models.Model], objs: Sequence[models.Model], *, with_ids: bool = False) -> None:
    """Store ``objs`` (new instances of ``model``) in one statement; with ``with_ids`` each
    instance's ``pk`` is set (on every backend; without it, only elsewhere than PostgreSQL)."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs)
        return
    opts = model._meta
    pk = opts.pk
    assert pk is not None
    fields = [
        f
        for f in opts.concrete_fields
        if f is not pk and not (f.db_default is not NOT_PROVIDED and _left_to_database(f, objs))
    ]
    _check_storable(fields)
    stamped = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    values_of = _row_reader(fields)
    columns = [_column(f) for f in fields]
    with connection.cursor() as cursor:
        if with_ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [opts.db_table, pk.column, len(objs)],
            )
            for obj, (value,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = value
            columns.insert(0, _column(pk))
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(
                f"COPY {connection.ops.quote_name(opts.db_table)} ({quoted}) FROM STDIN"
            ) as copy,
        ):
            for obj in objs:
                for f in stamped:
                    f.pre_save(obj, add=True)
                row = values_of(obj)
                if with_ids:
                    row.insert(0, obj.pk)
                copy.write_row(row)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def insert_rows(model: type[models.Model], names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Store ``rows`` of values for the fields ``names`` (attribute names: ``lead_id``), the
    other columns taking their database defaults; without building an instance per row on
    PostgreSQL (a timeline line or a link is written a hundred thousand times by an import)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**dict(zip(names, row, strict=True))) for row in rows])
        return
    opts = model._meta
    by_attname = {f.attname: f for f in opts.concrete_fields}
    fields = [by_attname[name] for name in names]
    _check_storable(fields)
    json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(_column(f)) for f in fields)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(opts.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            if json_at:
                row = list(row)
                for i in json_at:
                    if row[i] is not None:
                        row[i] = Jsonb(row[i])
            copy.write_row(row)


def update(model: type[models.Model], changed: Sequence[tuple[Any, set[str]]]) -> None:
    """Store each instance's changed fields (``(instance, field names)`` pairs), and only
    those, in one statement. An "instance" may be any object with ``pk`` and the fields'
    attributes (an import's ``KnownLead``)."""
    if not changed:
        return
    if connection.vendor != "postgresql":
        groups: dict[frozenset[str], list[models.Model]] = defaultdict(list)
        for obj, names in changed:
            if not isinstance(obj, model):  # an object with the attributes: an instance of them
                attnames = [model._meta.get_field(name).attname for name in names]  # type: ignore[union-attr]
                obj = model(pk=obj.pk, **{attname: getattr(obj, attname) for attname in attnames})
            groups[frozenset(names)].append(obj)
        for group, objs in groups.items():
            model._default_manager.bulk_update(objs, sorted(group))
        return
    opts = model._meta
    pk = opts.pk
    assert pk is not None
    by_name = {f.name: f for f in opts.concrete_fields}
    fields = [by_name[name] for name in sorted(set().union(*(names for _, names in changed)))]
    _check_storable(fields)
    json_fields = _json_fields(fields)
    quote = connection.ops.quote_name
    table, temp = quote(opts.db_table), quote(f"bulk_update_{opts.db_table}")
    # s<i>: whether the row changed field i; c<i>: its new value.
    definitions = ", ".join(
        f"s{i} boolean, c{i} {'jsonb' if f.attname in json_fields else f.db_type(connection)}"
        for i, f in enumerate(fields)
    )
    sets = ", ".join(
        f"{quote(_column(f))} = CASE WHEN v.s{i} THEN v.c{i} ELSE t.{quote(_column(f))} END"
        for i, f in enumerate(fields)
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {temp} (id {pk.db_type(connection)}, {definitions})")
        with connection.wrap_database_errors, cursor.cursor.copy(f"COPY {temp} FROM STDIN") as copy:
            for obj, names in changed:
                row: list[Any] = [obj.pk]
                for f in fields:
                    # Only the changed fields are read: another may be deferred, and loading
                    # it would query in the middle of the COPY.
                    if f.name in names:
                        value = getattr(obj, f.attname)
                        row += [
                            True,
                            Jsonb(value) if f.attname in json_fields and value is not None else value,
                        ]
                    else:
                        row += [False, None]
                copy.write_row(row)
        cursor.execute(f"UPDATE {table} AS t SET {sets} FROM {temp} AS v WHERE t.{quote(_column(pk))} = v.id")
        cursor.execute(f"DROP TABLE {temp}")


def _row_reader(fields: Sequence[Field]) -> Callable[[models.Model], list[Any]]:
    """A function reading an instance's values of ``fields`` as a row, JSON wrapped for
    psycopg: the attributes read at once (``attrgetter``, in C), the JSON columns found once per
    statement, not per value (an import reads fifty fields of 5,000 leads a batch)."""
    if not fields:  # a table of nothing but its id
        return lambda obj: []
    get = operator.attrgetter(*(f.attname for f in fields))
    json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]

    def values_of(obj: models.Model) -> list[Any]:
        row = list(get(obj)) if len(fields) > 1 else [get(obj)]
        for i in json_at:
            if row[i] is not None:
                row[i] = Jsonb(row[i])
        return row

    return values_of


def _column(field: Field) -> str:
    assert field.column is not None  # a concrete field's
    return field.column


def _json_fields(fields: Sequence[Field]) -> set[str]:
    return {f.attname for f in fields if isinstance(f, models.JSONField)}


def _check_storable(fields: Sequence[Field]) -> None:
    for f in fields:
        if type(f).get_db_prep_value not in _KNOWN_PREP:
            raise TypeError(f"kit.bulk cannot store {f.model._meta.label}.{f.name} ({type(f).__name__})")


def _left_to_database(field: Field, objs: Sequence[models.Model]) -> bool:
    """A ``db_default`` field that no instance set: the column is left out, the database fills
    it. One that some instances set and others not is refused (the database's value cannot be
    written by COPY for a single row). Only asked of fields with a ``db_default``: no other
    holds a ``DatabaseDefault``, and asking every field of every instance cost an import of
    100,000 rows as much as building the rows it copies."""
    defaulted = [isinstance(getattr(obj, field.attname), DatabaseDefault) for obj in objs]
    if any(defaulted) and not all(defaulted):
        raise TypeError(f"kit.bulk.insert: {field.name} is set on some instances, not on others")
    return defaulted[0]


_KNOWN_PREP = {
    Field.get_db_prep_value,
    models.CharField.get_db_prep_value,
    models.IntegerField.get_db_prep_value,
    models.BooleanField.get_db_prep_value,
    models.DecimalField.get_db_prep_value,
    models.FloatField.get_db_prep_value,
    models.DateTimeField.get_db_prep_value,
    models.DateField.get_db_prep_value,
    models.UUIDField.get_db_prep_value,
    models.ForeignKey.get_db_prep_value,
    models.JSONField.get_db_prep_value,
    models.TextField.get_db_prep_value,
}


class AnyOf(Lookup):
    """``filter(AnyOf(F("email"), values))``: the column is one of ``values``, sent as one
    array parameter on PostgreSQL (``email = ANY('{...}'::text[])``, answered by the column's
    index like ``IN``). Django's ``__in`` prepares each of thousands of values through the field
    and psycopg then merges as many parameters into the statement in Python: a tenth of an
    import's time at 5,000 rows a batch. Elsewhere it is ``IN (...)``. The values are strings
    or integers, as the column holds them."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        return list(self.rhs)

    def process_rhs(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        values = list(self.rhs)
        if not values:
            raise EmptyResultSet
        if connection.vendor != "postgresql":
            return f"({', '.join(['%s'] * len(values))})", tuple(values)
        if all(isinstance(value, int) for value in values):
            return "ANY(%s::bigint[])", ("{" + ",".join(str(value) for value in values) + "}",)
        return "ANY(%s::text[])", ("{" + ",".join(_array_element(str(value)) for value in values) + "}",)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        operator = "=" if connection.vendor == "postgresql" else "IN"
        return f"{lhs} {operator} {rhs}", (*lhs_params, *rhs_params)


def _array_element(value: str) -> str:
    """A string as an element of a PostgreSQL array literal: quoted, backslash and double
    quote escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
