"""The ASGI entry point refuses oversized bodies before Django reads them."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from config import asgi


def call(headers, chunks):
    """Run the ASGI app on one request; return (status or None, how many body chunks it read)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",  # the middleware was built with the production redirect to HTTPS
        "path": "/f/no-such-form/",
        "raw_path": b"/f/no-such-form/",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    read, sent = [], []
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]

    async def receive():
        if messages:
            read.append(1)
            return messages.pop(0)
        await asyncio.Future()  # the client stays connected: wait until cancelled

    async def send(message):
        sent.append(message)

    # A thread of its own: the browser tests' Playwright keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, asgi.application(scope, receive, send)).result()
    starts = [m["status"] for m in sent if m["type"] == "http.response.start"]
    return (starts[0] if starts else None), len(read)


def test_a_declared_body_over_the_limit_is_refused_unread(monkeypatch):
    monkeypatch.setattr(asgi, "MAX_BODY_BYTES", 1000)
    status, chunks_read = call([(b"content-length", b"5000")], [b"x" * 1000] * 5)
    assert status == 413 and chunks_read == 0


def test_a_chunked_body_is_cut_off_at_the_limit(monkeypatch):
    monkeypatch.setattr(asgi, "MAX_BODY_BYTES", 1000)
    status, chunks_read = call([(b"transfer-encoding", b"chunked")], [b"x" * 600] * 10)
    assert status is None and chunks_read == 2  # no answer, and the rest never read


@pytest.mark.django_db(transaction=True)
def test_a_body_within_the_limit_reaches_the_view(monkeypatch):
    from django.db import connections

    # The view runs in a thread of its own: its connection closes when the request finishes.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    monkeypatch.setattr(asgi, "MAX_BODY_BYTES", 1000)
    status, chunks_read = call([(b"content-length", b"900")], [b"x" * 450] * 2)
    assert status == 404 and chunks_read == 2  # the view looked the form up: there is none
