"""Slow clients against a web server on 127.0.0.1: a few sockets trickle POST bodies a byte
at a time while another client times ``GET /login/``. Used by the fault test and runnable by
hand: ``python -m tests.faults.slow_clients PORT``."""

import contextlib
import http.client
import socket
import sys
import threading
import time


def trickle_post(
    port: int, *, seconds: float, body_bytes: int = 40, path: str = "/api/v1/auth/token/"
) -> None:
    """One slow client: headers at once, then the body a byte at a time over ``seconds``."""
    body = b"x" * body_bytes
    with socket.create_connection(("127.0.0.1", port), timeout=seconds + 10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        )
        for byte in body:
            time.sleep(seconds / len(body))
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                return  # the server gave up on us: fine
        with contextlib.suppress(OSError):
            sock.recv(1024)


def get_latency(port: int, path: str = "/login/", timeout: float = 30.0) -> tuple[int, float]:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        status = conn.getresponse().status
    finally:
        conn.close()
    return status, time.monotonic() - started


def measure(port: int, *, slow_clients: int = 6, trickle_seconds: float = 10.0, gets: int = 8) -> list:
    """Start the slow clients, then time ``gets`` GETs spread over the trickle; returns
    [(status, seconds), ...]."""
    threads = [
        threading.Thread(target=trickle_post, args=(port,), kwargs={"seconds": trickle_seconds}, daemon=True)
        for _ in range(slow_clients)
    ]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # every slow client has sent its headers and is trickling
    results = []
    for _ in range(gets):
        results.append(get_latency(port))
        time.sleep(trickle_seconds / (gets * 2))
    for thread in threads:
        thread.join(timeout=trickle_seconds + 15)
    return results


if __name__ == "__main__":
    for status, seconds in measure(int(sys.argv[1])):
        print(status, f"{seconds * 1000:.0f} ms")
