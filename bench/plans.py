"""What the sections say about the statements they measured: SQL abridged for the report,
the SELECTs of a request worth replaying, and ``EXPLAIN (ANALYZE, BUFFERS)`` of those that
read the large tables, with what looks wrong in them."""

PLAN_LINE = 240  # plan lines are cut to this width
SLOW_PLAN_MS = 5.0  # a page statement slower than this is listed among the problems


def abridge(sql: str, width: int = 110) -> str:
    """``sql`` on one line, cut to ``width`` characters."""
    sql = " ".join(sql.split())
    return sql if len(sql) <= width else sql[: width - 1] + "…"


def cut(line: str, width: int = PLAN_LINE) -> str:
    """A plan line cut to ``width``: long lines are lists of ids (``pk IN (...)``) that say
    nothing about the plan."""
    return line if len(line) <= width else line[: width - 1] + "…"


def select_statements(captured) -> list[str]:
    """The statements of a request worth running again: its SELECTs, as sent (Django with
    psycopg 3 binds the parameters client-side, so ``sql`` is the statement as PostgreSQL got
    it), a server-side cursor's (``DECLARE ... FOR SELECT``, from ``.iterator()``) as its
    SELECT, a UNION's in its parentheses."""
    statements = []
    for query in captured:
        sql = query["sql"].lstrip()
        head = sql[:10].upper()
        if head.startswith("DECLARE"):
            sql = sql[sql.upper().index(" FOR ") + 5 :]  # DECLARE "c" NO SCROLL CURSOR WITH HOLD FOR ...
        elif not head.startswith(("SELECT", "WITH", "(")):
            continue
        statements.append(sql)
    return statements


def seq_scan(plan: str, table: str) -> bool:
    """Whether ``plan`` reads ``table`` with a sequential scan."""
    return f"Seq Scan on {table} " in plan or plan.rstrip().endswith(f"Seq Scan on {table}")


def explain(statements: list[str], big_tables: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of a page's statements that read the large tables, and what
    looks wrong in them: a sequential scan of a large table, or a statement slower than
    ``SLOW_PLAN_MS``."""
    from django.db import connection

    plans, problems = {}, []
    with connection.cursor() as cursor:
        for n, sql in enumerate(statements, 1):
            tables = [t for t in big_tables if f'"{t}"' in sql]
            if not tables:
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = "\n".join(cut(row[0]) for row in cursor.fetchall())
            key = f"#{n} {abridge(sql, 150)}"
            plans[key] = plan
            for table in big_tables:
                if seq_scan(plan, table):
                    problems.append(f"statement #{n} reads {table} with a sequential scan")
            execution = [line for line in plan.splitlines() if line.startswith("Execution Time")]
            if execution:
                ms = float(execution[0].split(":")[1].split()[0])
                if ms > SLOW_PLAN_MS:
                    problems.append(f"statement #{n} took {ms:.1f} ms ({', '.join(tables)})")
    return plans, problems
