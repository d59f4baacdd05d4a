"""Figure 14: the parts that serialise, in 1, 2, 4 and 8 processes at once."""

from ..mdwriter import Block, Bullets, Paragraph, Section, Table
from ..parallel import PROCESSES, ParallelFigures, Part, Run
from .summary import Row


def _at(part: Part, processes: int) -> Run | None:
    return next((r for r in part.runs if r.processes == processes), None)


def rows(m: ParallelFigures) -> list[Row]:
    """One row per part: its throughput with as many processes as cores beside one process;
    met when every run was exactly-once (the figure's target is correctness; the speed-up is
    reported, not held to a number, on a machine shared by the bench's own processes)."""
    out = []
    for part in m.parts:
        one, cores = part.runs[0], _at(part, m.cores) or part.runs[-1]
        out.append(
            Row(
                f"{part.name} in {cores.processes} processes",
                f"{cores.per_second:,.0f} {part.unit}/s",
                f"{one.per_second:,.0f} {part.unit}/s in one",
                f"{part.speedup(cores):.2f}x",
                f"exactly once in {', '.join(str(p) for p in PROCESSES)}",
                part.correct,
                missing=not part.correct,
            )
        )
    return out


def _part_blocks(part: Part) -> list[Block]:
    table = Table(
        (
            "processes",
            "wall s",
            f"{part.unit}/s",
            "speed-up",
            "CPU s",
            "shares",
            "statements",
            "lock waits",
            "load",
            "exactly once",
        ),
        [
            (
                str(r.processes),
                f"{r.wall:.2f}",
                f"{r.per_second:,.0f}",
                f"{part.speedup(r):.2f}x",
                f"{r.cpu:.1f}",
                "/".join(f"{s:.0%}" for s in r.shares),
                f"{r.attempts:,}",
                f"{r.contention.share(r.processes):.0%}",
                f"{r.load:.1f}",
                "yes" if r.correct else "**no**",
            )
            for r in part.runs
        ],
    )
    last = part.runs[-1]
    counted = [f"{r.processes} process(es): {r.check}" for r in part.runs]
    waits = [f"{n} samples waiting: `{s}`" for s, n in last.contention.waiting] + [
        f"{n} samples holding (state: statement): `{s}`" for s, n in last.contention.holding
    ]
    events = ", ".join(f"{e} {n}" for e, n in list(last.contention.events.items())[:5]) or "none"
    return [
        Paragraph(f"**{part.name}.** {part.work}."),
        table,
        Bullets(counted, lead="Counted in the database after each run:"),
        Bullets(
            waits or ["no backend was seen waiting on a lock"],
            lead=f"With {last.processes} processes, the lock waits sampled (wait events: {events}):",
        ),
    ]


def section(m: ParallelFigures) -> Section:
    load = ", ".join(f"{name} {value:.1f}" for name, value in m.load)
    blocks: list[Block] = [
        Paragraph(
            "Each part does the same total work in 1, 2, 4 and 8 OS processes started together (fresh",
            "interpreters with their own connections, warmed up as a worker is; `bench/parallel.py`).",
            "*wall s* runs from the first start to the last end; *shares* are each process's part of the",
            "items (which processes did the work); *CPU s* the processes' own CPU seconds in the call, added",
            "up (PostgreSQL's not counted: flat CPU with a growing wall time is waiting, not work);",
            "*statements* all processes sent; *load* the 1-minute load average after the run; *lock waits* the share",
            "of the processes' time a backend was seen waiting on a heavyweight lock (`pg_stat_activity`",
            "polled every 10 ms). *Exactly once* is counted in the database afterwards (see each list).",
            f"On {m.cores} cores, more than {m.cores} processes measure contention, not scaling: the",
            "speed-up can at best reach the core count, and PostgreSQL needs the same cores. The question",
            f"past {m.cores} is whether the work stays correct and the wall time flat. 1-minute load",
            f"average before each part: {load}.",
        ),
    ]
    for part in m.parts:
        blocks += _part_blocks(part)
    return Section("14. The parts that serialise, in 1 to 8 processes", blocks)
