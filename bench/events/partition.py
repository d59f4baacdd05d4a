"""A copy of ``leads_leadevent`` and ``leads_activity`` partitioned by month (declarative
RANGE partitioning on the timestamp), with the same indexes, so the same statements can be
measured on it; ``swap`` renames the copies into the tables' places (and back), so the
application's own code runs against them unchanged.

The primary key of a partitioned table must include the partition key: it is (id, at) /
(id, occurred_at); ids still come from the original sequence.
"""

import re
import time
from datetime import date

import psycopg

TABLES = {"leads_leadevent": "at", "leads_activity": "occurred_at"}


def months(first: date, last: date) -> list[date]:
    out, month = [], first.replace(day=1)
    while month <= last:
        out.append(month)
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return out


def build(dsn: str, tables=tuple(TABLES), schema_dsn: str | None = None, log=print) -> dict[str, float]:
    """Copy each table into a partitioned one with the same indexes: the indexes the table
    has, or those of the same table in ``schema_dsn`` (a database migrated alike), when this
    one's were dropped for a load."""
    timings: dict[str, float] = {}
    definitions = {}
    with psycopg.connect(schema_dsn or dsn) as conn, conn.cursor() as cursor:
        for table in tables:
            cursor.execute(
                "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass AND NOT indisprimary",
                [table],
            )
            definitions[table] = [row[0] for row in cursor.fetchall()]
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for table in tables:
            key, copy = TABLES[table], f"{table}_p"
            cursor.execute(f"DROP TABLE IF EXISTS {copy}")
            cursor.execute(f"SELECT min({key})::date, max({key})::date FROM {table}")
            first, last = cursor.fetchone() or (None, None)
            cursor.execute(
                f"CREATE TABLE {copy} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
                f" PARTITION BY RANGE ({key})"
            )
            # The sequence named now (regclass), not looked up by the table's name at each
            # insert: after a swap that name is the copy's, which owns no sequence.
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = (cursor.fetchone() or (None,))[0]
            cursor.execute(f"ALTER TABLE {copy} ALTER COLUMN id SET DEFAULT nextval('{sequence}'::regclass)")
            bounds = months(first, last)
            nxt = months(bounds[-1], date(bounds[-1].year + 1, 1, 1))[1]  # the month after the last
            for start, end in zip(bounds, [*bounds[1:], nxt], strict=True):
                cursor.execute(
                    f"CREATE TABLE {copy}_{start:%Y%m} PARTITION OF {copy} FOR VALUES FROM ('{start}') TO ('{end}')"
                )
            started = time.perf_counter()
            cursor.execute(f"INSERT INTO {copy} SELECT * FROM {table}")
            timings[f"copy {table}"] = time.perf_counter() - started
            log(
                f"copy {table}: {cursor.rowcount:,} rows into {len(bounds)} partitions in {timings[f'copy {table}']:.1f} s"
            )
            started = time.perf_counter()
            cursor.execute(f"ALTER TABLE {copy} ADD PRIMARY KEY (id, {key})")
            for definition in definitions[table]:
                # CREATE INDEX name ON public.table USING ... -> the same index on the copy
                definition = re.sub(
                    r"INDEX (\S+) ON public\.(\S+)", rf"INDEX \1_p ON public.{copy}", definition
                )
                cursor.execute(definition)
            timings[f"indexes {table}"] = time.perf_counter() - started
            log(f"indexes {copy}: {timings[f'indexes {table}']:.1f} s")
            cursor.execute(f"VACUUM (ANALYZE) {copy}")
    return timings


def swap(dsn: str, tables=tuple(TABLES)) -> None:
    """Exchange each table and its partitioned copy (run twice to undo)."""
    with psycopg.connect(dsn) as conn, conn.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_tmp")
            cursor.execute(f"ALTER TABLE {table}_p RENAME TO {table}")
            cursor.execute(f"ALTER TABLE {table}_tmp RENAME TO {table}_p")


if __name__ == "__main__":
    import sys

    dsn, action, *names = sys.argv[1:]
    schema = next((n.split("=", 1)[1] for n in names if n.startswith("--schema-from=")), None)
    names = [n for n in names if not n.startswith("--")]
    if action == "build":
        build(dsn, tuple(names) or tuple(TABLES), schema, log=lambda m: print(m, flush=True))
    else:
        swap(dsn, tuple(names) or tuple(TABLES))
