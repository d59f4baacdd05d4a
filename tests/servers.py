"""Servers a fault test starts for itself (never the machine's shared Redis): a redis-server
on a free port that the test can kill and restart, Refinery's own processes (gunicorn, a
Celery worker) run from the checkout, and helpers to wait for a port."""

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class RedisServer:
    """A redis-server of the test's own. With ``data_dir`` it keeps an append-only file there,
    so a restart after ``kill()`` finds the queues as they were (as a production Redis would)."""

    def __init__(self, *, data_dir: Path | None = None) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> "RedisServer":
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        if self.data_dir is not None:
            args += ["--dir", str(self.data_dir), "--appendonly", "yes", "--appendfsync", "always"]
        else:
            args += ["--appendonly", "no"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        return self

    def kill(self) -> None:
        """SIGKILL: no goodbye to the clients, as when the host dies."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.kill()


@contextlib.contextmanager
def project_process(module_args: list[str], *, log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """``python -m <module_args>`` from the checkout with ``env`` added to this process's
    environment, its output in ``log``; stopped (TERM, then KILL) when the block ends."""
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", *module_args],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@contextlib.contextmanager
def production_web(log: Path, *, workers: int, **env: str) -> Iterator[int]:
    """gunicorn as production runs it (config/gunicorn.py: uvicorn workers, the pool) on a free
    port with the test database; yields the port once it listens (the caller warms it up)."""
    port = free_port()
    env = {
        "SECRET_KEY": "faults-not-a-secret-" + "x" * 40,
        "SECURE_SSL_REDIRECT": "0",
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        **env,
    }
    args = ["gunicorn", "-c", "config/gunicorn.py", "--workers", str(workers), "--bind", f"127.0.0.1:{port}"]
    with project_process(args, log=log, env=env):
        wait_for_port(port, timeout=60)
        yield port
