"""Admission control (kit/admission.py) on its own, in front of an application whose requests
finish when the test says: past a class's budget a request is refused at once with a 503 and
Retry-After without reaching the application; the other class is not affected; a waiter gets
the next free place, and one that waits too long is refused. (tests/faults/test_overload.py
floods the real server.)"""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from kit.admission import AdmissionControl, Budget, request_class


class App:
    """An ASGI application that answers 200 when the test releases the request's path."""

    def __init__(self) -> None:
        self.entered: list[str] = []
        self.release: dict[str, asyncio.Event] = {}

    async def __call__(self, scope, receive, send):
        path = scope["path"]
        self.entered.append(path)
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await self.release.setdefault(path, asyncio.Event()).wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})


def run(coroutine):
    """``asyncio.run`` in a thread of its own: a browser test earlier in the session leaves
    Playwright's event loop running in the main thread, where ``asyncio.run`` refuses."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def scope(path: str, headers: list[tuple[bytes, bytes]] | None = None) -> dict:
    return {"type": "http", "path": path, "headers": headers or []}


async def call(middleware, path: str, headers=None, body_messages=None) -> dict:
    """Run one request; returns its response start message (status, headers)."""
    messages = list(body_messages or [{"type": "http.request", "body": b"x", "more_body": False}])
    started: dict = {}

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)

    async def send(message):
        if message["type"] == "http.response.start":
            started.update(message)

    await middleware(scope(path, headers), receive, send)
    return started


PUBLIC, SITE = Budget(1, 1, 5.0), Budget(1, 1, 5.0)


def middleware(app, *, public: Budget = PUBLIC, site: Budget = SITE) -> AdmissionControl:
    return AdmissionControl(
        app, budgets={"public": public, "site": site}, retry_after_seconds=2, session_cookie="sessionid"
    )


class Streaming(App):
    """Answers its headers at once and its body when released."""

    async def __call__(self, scope, receive, send):
        path = scope["path"]
        self.entered.append(path)
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await self.release.setdefault(path, asyncio.Event()).wait()
        await send({"type": "http.response.body", "body": b""})


def test_past_the_public_budget_a_post_is_refused_at_once_and_reps_pages_still_enter():
    async def scenario():
        app = App()
        gate = middleware(app, public=Budget(1, 1, 5.0))
        first = asyncio.create_task(call(gate, "/f/a/"))  # runs
        second = asyncio.create_task(call(gate, "/f/b/"))  # waits (queue of 1)
        await asyncio.sleep(0.01)
        loop = asyncio.get_running_loop()
        started = loop.time()
        third = await call(gate, "/f/c/")  # queue full: refused without waiting
        refused_in = loop.time() - started
        page = asyncio.create_task(call(gate, "/queue/"))  # the site class has its own budget
        await asyncio.sleep(0.01)
        entered = list(app.entered)
        for event in ("/f/a/", "/f/b/", "/queue/"):
            app.release.setdefault(event, asyncio.Event()).set()
        results = await asyncio.gather(first, second, page)
        return third, refused_in, entered, results

    third, refused_in, entered, results = run(scenario())
    assert third["status"] == 503
    assert (b"retry-after", b"2") in third["headers"]
    assert refused_in < 0.01
    assert entered == ["/f/a/", "/queue/"]  # the refused post never reached the application
    assert [r["status"] for r in results] == [200, 200, 200]


def test_a_waiter_gets_the_next_free_place_and_one_that_waits_too_long_is_refused():
    async def scenario():
        app = App()
        gate = middleware(app, public=Budget(1, 5, 0.5))
        first = asyncio.create_task(call(gate, "/f/a/"))
        await asyncio.sleep(0.01)
        waiter = asyncio.create_task(call(gate, "/f/b/"))
        await asyncio.sleep(0.05)
        app.release.setdefault("/f/a/", asyncio.Event()).set()  # /f/b/ takes its place
        await asyncio.sleep(0.01)
        late = await call(gate, "/f/c/")  # /f/b/ holds the place past the 0.5 s bound
        app.release.setdefault("/f/b/", asyncio.Event()).set()
        await asyncio.gather(first, waiter)
        after = asyncio.create_task(call(gate, "/f/d/"))  # free again
        await asyncio.sleep(0.01)
        app.release.setdefault("/f/d/", asyncio.Event()).set()
        return app.entered, late, await after, gate.gates["public"]

    entered, late, after, public = run(scenario())
    assert entered == ["/f/a/", "/f/b/", "/f/d/"]
    assert late["status"] == 503
    assert after["status"] == 200
    assert public.in_flight == 0 and not public.waiters


def test_a_post_that_would_likely_wait_past_the_bound_is_refused_on_arrival():
    async def scenario():
        app = App()
        gate = middleware(app, public=Budget(1, 10, 0.1))
        gate.gates["public"].holding_seconds = 0.5  # requests have been holding a place 0.5 s
        first = asyncio.create_task(call(gate, "/f/a/"))
        await asyncio.sleep(0.01)
        loop = asyncio.get_running_loop()
        started = loop.time()
        second = await call(gate, "/f/b/")  # room in the queue, but 0.5 s > 0.1 s: refused now
        took = loop.time() - started
        app.release.setdefault("/f/a/", asyncio.Event()).set()
        await first
        return second, took

    second, took = run(scenario())
    assert second["status"] == 503
    assert took < 0.01


def test_a_streamed_answer_gives_its_place_back_when_its_headers_are_sent():
    async def scenario():
        app = Streaming()
        gate = middleware(app, site=Budget(1, 0, 0))
        export = asyncio.create_task(call(gate, "/leads/export/"))
        await asyncio.sleep(0.01)
        page = asyncio.create_task(call(gate, "/queue/"))  # while the export still streams
        await asyncio.sleep(0.01)
        app.release.setdefault("/queue/", asyncio.Event()).set()
        app.release.setdefault("/leads/export/", asyncio.Event()).set()
        return await asyncio.gather(export, page)

    export, page = run(scenario())
    assert export["status"] == 200 and page["status"] == 200


def test_a_post_whose_body_has_not_arrived_holds_no_place():
    async def scenario():
        app = App()
        gate = middleware(app, public=Budget(1, 0, 0))
        trickling = asyncio.create_task(
            call(gate, "/f/slow/", body_messages=[{"type": "http.request", "body": b"x", "more_body": True}])
        )
        await asyncio.sleep(0.01)
        post = asyncio.create_task(call(gate, "/f/a/"))
        await asyncio.sleep(0.01)
        app.release.setdefault("/f/a/", asyncio.Event()).set()
        result = await post
        trickling.cancel()
        return result, app.entered

    result, entered = run(scenario())
    assert result["status"] == 200
    assert entered == ["/f/a/"]


def test_requests_are_classed_by_path_and_credentials():
    cookie = b"sessionid="
    assert request_class(scope("/f/abc/"), cookie) == "public"
    assert request_class(scope("/api/v1/leads/"), cookie) == "public"
    assert request_class(scope("/api/v1/leads/", [(b"authorization", b"Token x")]), cookie) == "site"
    assert (
        request_class(scope("/api/v1/leads/", [(b"cookie", b"csrftoken=a; sessionid=b")]), cookie) == "site"
    )
    assert request_class(scope("/queue/"), cookie) == "site"
    assert request_class(scope("/login/"), cookie) == "site"
    assert request_class(scope("/healthz"), cookie) is None
