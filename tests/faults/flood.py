"""A flood of web-form posts at a fixed rate (open loop: a new post starts on schedule whether
or not the earlier ones were answered, as visitors of marketing sites do), each on a fresh
connection from one of many client addresses (``X-Forwarded-For``), while a logged-in rep
opens a page now and then. Used by the overload fault test and the overload bench figure
(``bench/overload.py``); runnable by hand::

    python -m tests.faults.flood PORT FORM_KEY RATE SECONDS
"""

import asyncio
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

#: What became of a request: an HTTP status, or how the connection failed.
RESET, TIMEOUT, REFUSED, OTHER_ERROR = "reset", "timeout", "refused", "error"


@dataclass
class Outcome:
    started: float  # monotonic, seconds
    seconds: float
    result: int | str  # the status, or RESET / TIMEOUT / REFUSED / OTHER_ERROR
    retry_after: str | None = None
    email: str = ""


@dataclass
class FloodReport:
    posts: list[Outcome] = field(default_factory=list)
    pages: list[Outcome] = field(default_factory=list)
    not_sent: int = 0  # posts the client could not start (too many of its own outstanding)
    seconds: float = 0.0

    def by_result(self) -> dict[int | str, list[Outcome]]:
        groups: dict[int | str, list[Outcome]] = {}
        for outcome in self.posts:
            groups.setdefault(outcome.result, []).append(outcome)
        return groups

    def accepted_emails(self) -> set[str]:
        return {o.email for o in self.posts if isinstance(o.result, int) and 200 <= o.result < 300}


def percentile(values: Iterable[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def request(
    port: int,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    timeout: float = 10.0,
) -> Outcome:
    """One request on a fresh connection (``Connection: close``), timed from connecting to
    the end of the answer."""
    started = time.monotonic()
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    head += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method == "POST":
        head.append(f"Content-Length: {len(body)}")
    raw = ("\r\n".join(head) + "\r\n\r\n").encode() + body
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(raw)
            await writer.drain()
            status_line = await reader.readline()
            if not status_line:
                return Outcome(started, time.monotonic() - started, RESET)
            status = int(status_line.split()[1])
            retry_after = None
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "retry-after":
                    retry_after = value.strip()
            await reader.read()  # to the end: Connection: close
            return Outcome(started, time.monotonic() - started, status, retry_after)
    except TimeoutError:
        return Outcome(started, time.monotonic() - started, TIMEOUT)
    except ConnectionRefusedError:
        return Outcome(started, time.monotonic() - started, REFUSED)
    except (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError):
        return Outcome(started, time.monotonic() - started, RESET)
    except (OSError, ValueError, IndexError):
        return Outcome(started, time.monotonic() - started, OTHER_ERROR)
    finally:
        if writer is not None:
            writer.close()


def submission(prefix: str, n: int) -> tuple[str, bytes]:
    email = f"{prefix}.{n}@company{n % 500}.com"
    body = urlencode(
        {
            "email": email,
            "first_name": "Ada",
            "company": "Acme Analytics",
            "title": "VP of Sales",
            "country": "USA",
            "employees": "1,200",
        }
    ).encode()
    return email, body


def post_headers(n: int, addresses: int) -> dict[str, str]:
    """Form-encoded, JSON answer, and one of ``addresses`` client addresses (10.x.y.z)."""
    k = n % addresses
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
        "X-Forwarded-For": f"10.{k >> 16 & 255}.{k >> 8 & 255}.{k & 255}",
    }


async def post_form(port: int, key: str, prefix: str, n: int, *, addresses: int, timeout: float) -> Outcome:
    email, body = submission(prefix, n)
    outcome = await request(
        port, "POST", f"/f/{key}/", headers=post_headers(n, addresses), body=body, timeout=timeout
    )
    outcome.email = email
    return outcome


async def flood(
    port: int,
    key: str,
    *,
    rate: float,
    seconds: float,
    prefix: str = "flood",
    addresses: int = 100_000,
    page: str | None = None,
    session_cookie: str | None = None,
    page_every: float = 0.5,
    timeout: float = 10.0,
    max_outstanding: int = 4000,
) -> FloodReport:
    """Post ``rate`` submissions a second for ``seconds``; meanwhile GET ``page`` with the
    session cookie every ``page_every`` seconds. Waits for every request to finish."""
    report = FloodReport()
    tasks: set[asyncio.Task] = set()
    page_tasks: list[asyncio.Task] = []
    start = time.monotonic()
    sent = 0
    next_page = start

    while (now := time.monotonic()) - start < seconds:
        due = int((now - start) * rate)

        def done(task: asyncio.Task) -> None:
            tasks.discard(task)
            report.posts.append(task.result())

        while sent < due:
            if len(tasks) >= max_outstanding:
                report.not_sent += 1
            else:
                task = asyncio.create_task(
                    post_form(port, key, prefix, sent, addresses=addresses, timeout=timeout)
                )
                tasks.add(task)
                task.add_done_callback(done)
            sent += 1
        if page is not None and now >= next_page:
            next_page += page_every
            page_tasks.append(
                asyncio.create_task(
                    request(port, "GET", page, headers={"Cookie": session_cookie or ""}, timeout=timeout)
                )
            )
        await asyncio.sleep(0.002)

    while tasks:
        await asyncio.sleep(0.05)
    report.pages = list(await asyncio.gather(*page_tasks))
    report.seconds = time.monotonic() - start
    return report


async def capacity(
    port: int, key: str, *, clients: int = 4, seconds: float = 4.0, prefix: str = "capacity"
) -> float:
    """Posts accepted a second when ``clients`` post one after another as fast as answered
    (closed loop, each post on a fresh connection, as the flood's)."""
    accepted = 0
    start = time.monotonic()

    async def client(c: int) -> None:
        nonlocal accepted
        n = 0
        while time.monotonic() - start < seconds:
            outcome = await post_form(port, key, f"{prefix}.{c}", n, addresses=100_000, timeout=10.0)
            accepted += isinstance(outcome.result, int) and 200 <= outcome.result < 300
            n += 1

    await asyncio.gather(*(client(c) for c in range(clients)))
    return accepted / (time.monotonic() - start)


async def until_accepted(port: int, key: str, *, prefix: str, timeout: float = 30.0) -> tuple[float, Outcome]:
    """Post one submission every 0.1 s until one gets a 2xx; returns (seconds, that outcome)."""
    start = time.monotonic()
    n = 0
    while True:
        outcome = await post_form(port, key, prefix, n, addresses=1_000, timeout=5.0)
        if isinstance(outcome.result, int) and 200 <= outcome.result < 300:
            return time.monotonic() - start, outcome
        if time.monotonic() - start > timeout:
            return time.monotonic() - start, outcome
        n += 1
        await asyncio.sleep(0.1)


def summary(report: FloodReport) -> str:
    lines = [f"{len(report.posts)} posts in {report.seconds:.1f} s ({report.not_sent} not sent)"]
    for result, outcomes in sorted(report.by_result().items(), key=lambda item: str(item[0])):
        times = [o.seconds * 1000 for o in outcomes]
        lines.append(
            f"  {result}: {len(outcomes)}, p50 {percentile(times, 0.5):.1f} ms, p99 {percentile(times, 0.99):.1f} ms"
        )
    if report.pages:
        times = [o.seconds * 1000 for o in report.pages]
        statuses = sorted({str(o.result) for o in report.pages})
        lines.append(
            f"  page: {len(report.pages)} ({', '.join(statuses)}), p50 {percentile(times, 0.5):.1f} ms,"
            f" p95 {percentile(times, 0.95):.1f} ms, max {max(times):.1f} ms"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    port, key, rate, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    print(summary(asyncio.run(flood(port, key, rate=rate, seconds=seconds))))
