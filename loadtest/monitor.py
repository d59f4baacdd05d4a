"""What the runner samples while a step runs: database connections and lock waits
(``pg_stat_activity``, ``pg_locks``), and CPU by process group (psutil, installed with locust)."""

import os
import statistics
import threading
import time
from dataclasses import dataclass, field

import psutil
import psycopg


@dataclass
class Samples:
    connections: list[int] = field(default_factory=list)  # backends of the run's database
    active: list[int] = field(default_factory=list)  # of them running a statement
    idle_in_transaction: list[int] = field(default_factory=list)
    lock_waiting: list[int] = field(default_factory=list)  # backends waiting on a lock
    locks_not_granted: list[int] = field(default_factory=list)
    waiting_statements: dict[str, int] = field(default_factory=dict)  # query -> times seen waiting
    cpu: dict[str, float] = field(default_factory=dict)  # group -> CPU seconds per second
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)  # the machine's load at the end
    seconds: float = 0.0

    def summary(self) -> dict:
        def stat(values: list[int]) -> dict:
            if not values:
                return {"mean": 0.0, "max": 0}
            return {"mean": round(statistics.fmean(values), 1), "max": max(values)}

        return {
            "connections": stat(self.connections),
            "active": stat(self.active),
            "idle_in_transaction": stat(self.idle_in_transaction),
            "lock_waiting": stat(self.lock_waiting),
            "locks_not_granted": stat(self.locks_not_granted),
            "waiting_statements": dict(sorted(self.waiting_statements.items(), key=lambda kv: -kv[1])[:5]),
            "cpu": {k: round(v, 2) for k, v in sorted(self.cpu.items(), key=lambda kv: -kv[1])},
            "load": [round(x, 2) for x in self.load],
            "seconds": round(self.seconds, 1),
        }


class ProcessGroups:
    """CPU seconds of named groups of processes: each group is a root pid and its descendants
    (found again at every sample, so a new worker child or backend is counted from when it is
    first seen), or the processes of a name."""

    def __init__(self, roots: dict[str, int], names: dict[str, str]) -> None:
        self.roots = roots
        self.names = names
        self.first: dict[tuple[str, int], float] = {}
        self.last: dict[tuple[str, int], float] = {}

    def _members(self) -> dict[str, list[psutil.Process]]:
        members: dict[str, list[psutil.Process]] = {}
        for group, pid in self.roots.items():
            try:
                root = psutil.Process(pid)
                members[group] = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                members[group] = []
        if self.names:
            for process in psutil.process_iter(["name"]):
                for group, name in self.names.items():
                    if process.info["name"] == name:
                        members.setdefault(group, []).append(process)
        return members

    def sample(self) -> None:
        for group, processes in self._members().items():
            for process in processes:
                try:
                    times = process.cpu_times()
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                key = (group, process.pid)
                used = times.user + times.system
                self.first.setdefault(key, used)
                self.last[key] = used

    def used(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for key, last in self.last.items():
            totals[key[0]] = totals.get(key[0], 0.0) + last - self.first[key]
        return totals


class Monitor(threading.Thread):
    """Samples every ``interval`` seconds until stopped."""

    def __init__(self, dsn: str, db: str, groups: ProcessGroups, interval: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.dsn, self.db, self.groups, self.interval = dsn, db, groups, interval
        self.samples = Samples()
        self._stop_event = threading.Event()
        self._began = time.monotonic()

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self._stop_event.is_set():
                self._sample(conn)
                self._stop_event.wait(self.interval)

    def _sample(self, conn: psycopg.Connection) -> None:
        s = self.samples
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE state = 'active'),"
            " count(*) FILTER (WHERE state LIKE 'idle in transaction%%'),"
            " count(*) FILTER (WHERE wait_event_type = 'Lock')"
            " FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [self.db],
        ).fetchone()
        assert row is not None
        s.connections.append(row[0])
        s.active.append(row[1])
        s.idle_in_transaction.append(row[2])
        s.lock_waiting.append(row[3])
        s.locks_not_granted.append(
            conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()[0]
        )
        for (query,) in conn.execute(
            "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 160) FROM pg_stat_activity"
            " WHERE datname = %s AND wait_event_type = 'Lock'",
            [self.db],
        ):
            s.waiting_statements[query] = s.waiting_statements.get(query, 0) + 1
        self.groups.sample()

    def stop(self) -> Samples:
        self._stop_event.set()
        self.join(timeout=10)
        self.groups.sample()
        s = self.samples
        s.seconds = time.monotonic() - self._began
        s.cpu = {k: v / s.seconds for k, v in self.groups.used().items()}
        s.load = os.getloadavg()
        return s
