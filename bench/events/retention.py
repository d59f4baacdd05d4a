"""Retention of one month, both ways: ``DELETE`` of the month's rows from the plain tables
(then the ``VACUUM`` that makes their space reusable) against ``DETACH PARTITION`` + ``DROP
TABLE`` of the month's partition in the partitioned copies (``partition.py``). Times, rows
and the WAL each writes (what a replica and the backups must carry). Destructive: run last.
"""

import json
import re
import sys
import time
from datetime import date

import psycopg

TABLES = {"leads_leadevent": "at", "leads_activity": "occurred_at"}


def delete(cursor, sql: str, params) -> tuple[float, int, int]:
    """Seconds, rows and WAL bytes of one DELETE (EXPLAIN ANALYZE's own WAL figures: the
    cluster's WAL position would count the other databases' writes too)."""
    started = time.perf_counter()
    cursor.execute(f"EXPLAIN (ANALYZE, WAL, FORMAT JSON) {sql}", params)
    seconds = time.perf_counter() - started
    plan = cursor.fetchone()[0][0]["Plan"]
    return seconds, plan["Plans"][0]["Actual Rows"], plan.get("WAL Bytes", 0)


def vacuum(conn, cursor, table: str) -> tuple[float, int]:
    """Seconds and WAL bytes of a VACUUM (from its VERBOSE report)."""
    notes: list[str] = []
    handler = lambda diag: notes.append(diag.message_primary or "")  # noqa: E731
    conn.add_notice_handler(handler)
    started = time.perf_counter()
    cursor.execute(f"VACUUM (VERBOSE) {table}")
    seconds = time.perf_counter() - started
    conn.remove_notice_handler(handler)
    found = [re.search(r"WAL usage: .*?(\d+) bytes", n) for n in notes]
    return seconds, sum(int(m.group(1)) for m in found if m)


def run(dsn: str, month: date) -> list[dict]:
    end = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    out = []
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cursor:
        for table, key in TABLES.items():
            sql = f"DELETE FROM {table} WHERE {key} >= %s AND {key} < %s"
            seconds, rows, wal_bytes = delete(cursor, sql, (month, end))
            out.append(
                {
                    "what": f"DELETE one month from {table}",
                    "seconds": round(seconds, 2),
                    "rows": rows,
                    "wal_mb": round(wal_bytes / 2**20, 1),
                }
            )
            seconds, wal_bytes = vacuum(conn, cursor, table)
            out.append(
                {
                    "what": f"VACUUM {table} after it",
                    "seconds": round(seconds, 2),
                    "wal_mb": round(wal_bytes / 2**20, 1),
                }
            )
            part = f"{table}_p_{month:%Y%m}"
            cursor.execute(f"SELECT count(*) FROM {part}")
            rows = (cursor.fetchone() or (0,))[0]
            started = time.perf_counter()
            cursor.execute(f"ALTER TABLE {table}_p DETACH PARTITION {part}")
            cursor.execute(f"DROP TABLE {part}")
            seconds = time.perf_counter() - started
            out.append(
                {
                    "what": f"DETACH + DROP the month's partition of {table}_p",
                    "seconds": round(seconds, 3),
                    "rows": rows,
                }
            )
    for row in out:
        print(json.dumps(row), flush=True)
    return out


if __name__ == "__main__":
    run(sys.argv[1], date.fromisoformat(sys.argv[2]))
