"""The load test's report in markdown: per mode and step, per action, and what the database
and the processes did; and a shorter section for docs/benchmarks.md."""

from pathlib import Path

PAGE_P95_MS = 200


def _ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def _actions_table(step: dict) -> list[str]:
    lines = [
        "| action | method | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | failed |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in sorted(step["stats"], key=lambda s: (s["name"] == "Aggregated", s["name"])):
        over = " ⚠" if s["method"] == "GET" and s["p95"] >= PAGE_P95_MS else ""
        lines.append(
            f"| {s['name']} | {s['method']} | {s['requests']:,} | {s['rps']:.2f} | {_ms(s['p50'])} |"
            f" {_ms(s['p95'])}{over} | {_ms(s['p99'])} | {_ms(s['max'])} | {s['failures']} |"
        )
    return lines


def _statements(rows: list[dict], title: str) -> list[str]:
    lines = [
        f"{title}:",
        "",
        "| calls | total ms | mean ms | share | statement |",
        "| ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows[:8]:
        query = r["query"].replace("|", "\\|")
        lines.append(
            f"| {r['calls']:,} | {r['total_ms']:,.0f} | {r['mean_ms']:.2f} | {r['share'] or 0:.1f}% | `{query}` |"
        )
    return lines


def cpu_per_request(step: dict) -> dict[str, float]:
    """CPU milliseconds per request by process group: robust to a busy machine (a starved
    process does less work, not more per request), so it projects what a quiet one serves."""
    agg = next((s for s in step["stats"] if s["name"] == "Aggregated"), None)
    m = step["monitor"]
    requests = agg["requests"] if agg else 0
    if not requests:
        return {}
    return {group: cores * m["seconds"] * 1000 / requests for group, cores in m["cpu"].items()}


def projected_reps(step: dict, cores: float = 2.0, seconds_per_action: float = 30.0) -> int:
    """Reps a quiet machine of ``cores`` serves at this step's CPU per request (the web,
    PostgreSQL, the worker and beat; not Locust, not the shared Redis), each acting every
    ``seconds_per_action``: the CPU bound, before any queueing."""
    per = cpu_per_request(step)
    server_ms = sum(v for k, v in per.items() if k not in ("locust", "redis (shared)"))
    return int(cores * 1000 / server_ms * seconds_per_action) if server_ms else 0


def _step(step: dict) -> list[str]:
    m = step["monitor"]
    per = cpu_per_request(step)
    verdict = "**passes**" if step["passes"] else "**fails**: " + "; ".join(step["reasons"][:6])
    cpu = ", ".join(f"{k} {v:.2f}" for k, v in m["cpu"].items())
    locks = step["lock_waits_logged"]
    lines = [
        f"#### {step['mode']}, {step['reps']:,} reps: {verdict}",
        "",
        f"Load average at the end {m['load'][0]:.1f} / {m['load'][1]:.1f} / {m['load'][2]:.1f} (1/5/15 min);"
        f" measured {m['seconds']:.0f} s after the ramp.",
        "",
        *_actions_table(step),
        "",
        f"- CPU (cores busy, 2 = the whole machine): {cpu}",
        "- CPU per request (ms): "
        + ", ".join(f"{k} {v:.1f}" for k, v in per.items() if v >= 0.05)
        + f"; at that cost a quiet 2-core machine serves about {projected_reps(step):,} reps (one action"
        " per 30 s), the CPU bound before any queueing",
        f"- database: {step['transactions_per_second']:.1f} commits/s, {step['rollbacks']} rollbacks,"
        f" {step['deadlocks']} deadlocks, {step['blocks_read']:,} blocks read from outside shared buffers",
        f"- connections to the database: mean {m['connections']['mean']}, max {m['connections']['max']};"
        f" active mean {m['active']['mean']}, max {m['active']['max']}; idle in transaction max"
        f" {m['idle_in_transaction']['max']}",
        f"- lock waits: sampled every 2 s, backends waiting on a lock mean {m['lock_waiting']['mean']}, max"
        f" {m['lock_waiting']['max']}; locks not granted max {m['locks_not_granted']['max']};"
        f" waits over 200 ms logged: {locks['count']}"
        + (f" ({', '.join(locks['kinds'])})" if locks["kinds"] else ""),
    ]
    if locks["statements"]:
        lines.append(
            "- statements that waited over 200 ms: "
            + "; ".join(f"`{q}` x{n}" for q, n in locks["statements"].items())
        )
    if m["waiting_statements"]:
        lines.append(
            "- statements seen waiting on a lock: "
            + "; ".join(f"`{q}` x{n}" for q, n in m["waiting_statements"].items())
        )
    if step["failures"]:
        lines.append(
            "- failures: "
            + "; ".join(f"{f['name']}: {f['error']} x{f['occurrences']}" for f in step["failures"][:6])
        )
    lines += [
        "",
        *_statements(
            step["statements_by_total"], "Slowest statements by total time (pg_stat_statements, this step)"
        ),
        "",
    ]
    lines += [*_statements(step["statements_by_mean"], "By mean time (5 calls at least)"), ""]
    return lines


def summary_lines(results: dict) -> list[str]:
    lines = [
        "| mode | reps | verdict | req/s | all p95 ms | worst page (p95 ms) | failed | CPU gunicorn / postgres / celery / locust | CPU ms per request (web + db + worker) | CPU-bound reps on a quiet 2-core machine | load |",
        "| --- | ---: | --- | ---: | ---: | --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for mode, data in results["modes"].items():
        for step in data["steps"]:
            agg = next((s for s in step["stats"] if s["name"] == "Aggregated"), None)
            pages = [
                s
                for s in step["stats"]
                if s["method"] == "GET" and s["name"] != "Aggregated" and s["requests"] >= 5
            ]
            worst = max(pages, key=lambda s: s["p95"], default=None)
            cpu = step["monitor"]["cpu"]
            per = cpu_per_request(step)
            server_ms = sum(v for k, v in per.items() if k not in ("locust", "redis (shared)"))
            celery = cpu.get("celery worker", 0) + cpu.get("celery beat", 0)
            lines.append(
                f"| {mode} | {step['reps']:,} | {'pass' if step['passes'] else 'fail'} |"
                f" {agg['rps'] if agg else 0:.1f} | {_ms(agg['p95']) if agg else '-'} |"
                f" {worst['name'] + ' (' + _ms(worst['p95']) + ')' if worst else '-'} |"
                f" {agg['failures'] if agg else 0} |"
                f" {cpu.get('gunicorn', 0):.2f} / {cpu.get('postgres', 0):.2f} / {celery:.2f} / {cpu.get('locust', 0):.2f} |"
                f" {server_ms:.0f} | {projected_reps(step):,} |"
                f" {step['monitor']['load'][0]:.1f} |"
            )
    return lines


def write(results: dict, report: Path, section: Path) -> None:
    args = results["args"]
    ceilings = ", ".join(f"{mode}: {data['ceiling']:,} reps" for mode, data in results["modes"].items())
    head = [
        f"Run {results['started']} to {results.get('finished', '?')}: {args['leads']:,} leads;"
        f" steps {', '.join(str(s) for s in args['steps'])} reps, each ramped over {args['ramp_seconds']} s then"
        f" measured {args['step_seconds']} s; gunicorn {args['workers']} workers, Celery worker"
        f" concurrency {args['concurrency']} and beat; modes {', '.join(args['modes'])}.",
        "",
        f"**Ceiling** (the largest step where every page's p95 < {PAGE_P95_MS} ms and nothing failed): {ceilings}.",
        "",
        *summary_lines(results),
        "",
    ]
    body = ["# Load test: the mixed load of a sales floor", "", *head]
    for mode, data in results["modes"].items():
        body += [f"## {mode}", ""]
        for step in data["steps"]:
            body += _step(step)
    body += [
        "## PostgreSQL settings (loadtest/pg.py)",
        "",
        ", ".join(f"{k}={v}" for k, v in results["postgresql"].items()),
        "",
    ]
    report.write_text("\n".join(body))
    section.write_text("\n".join(["### Mixed load (`make loadtest`)", "", *head]))
