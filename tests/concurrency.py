"""Race tests: run the same work in several threads at once, each with its own PostgreSQL
connection, released together by a barrier."""

import threading
from collections.abc import Callable


def run_concurrently(*works: Callable[[], object]) -> list[object]:
    """Start every callable at the same instant in its own thread; return what each returned
    or raised (an exception is returned, not raised, so a test can count winners and losers)."""
    barrier = threading.Barrier(len(works))
    outcomes: list[object] = [None] * len(works)

    def run(i: int, work: Callable[[], object]) -> None:
        from django.db import connection

        try:
            barrier.wait()
            outcomes[i] = work()
        except Exception as exc:
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, work)) for i, work in enumerate(works)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
