"""Shared test fixtures: settings on a temp data dir, real-shaped payloads, signing."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
from pathlib import Path

import pytest

from plugin.settings import load_settings
from plugin.simulators.zammad import ZammadSimulator

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ENRICHER_SHARED_DIR") or REPO.parent / "shared")
ZAMMAD_FIXTURES = SHARED / "platforms" / "zammad" / "fixtures"
JIRA_FIXTURES = SHARED / "platforms" / "jira" / "fixtures"
ZAMMAD_SECRET = "s3cr3t-t0k3n"          # the key of the HMAC test vectors in headers_example.txt
JIRA_SECRET = "test-webhook-secret"     # the key of the Jira fixtures' signatures


def zammad_body(name: str) -> bytes:
    """Exact bytes of a compact fixture: the raw body Zammad signs."""
    return (ZAMMAD_FIXTURES / f"{name}.compact.json").read_bytes()


def zammad_names() -> list[str]:
    return sorted(p.name[: -len(".compact.json")] for p in ZAMMAD_FIXTURES.glob("*.compact.json"))


def sign(secret: str, body: bytes, algorithm: str = "sha1") -> str:
    return f"{algorithm}=" + hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()


def zammad_headers(body: bytes, delivery: str, secret: str = ZAMMAD_SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Zammad User Agent",
            "X-Zammad-Trigger": "desk-enricher", "X-Zammad-Delivery": delivery,
            "X-Hub-Signature": sign(secret, body)}


def with_changes(name: str, **ticket_changes) -> bytes:
    data = json.loads(zammad_body(name))
    data["ticket"].update(ticket_changes)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


@pytest.fixture
def make_settings(tmp_path):
    def make(**env):
        base = {"ENRICHER_DATA_DIR": str(tmp_path / "data"),
                "ENRICHER_ZAMMAD_URL": "http://zammad.test",
                "ENRICHER_ZAMMAD_TOKEN": "tok-123456",
                "ENRICHER_ZAMMAD_WEBHOOK_SECRET": ZAMMAD_SECRET,
                "ENRICHER_RETRY_BASE_SECONDS": "0", "ENRICHER_HTTP_RETRIES": "0"}
        base.update({k: v for k, v in env.items() if v is not None})
        for k in [k for k, v in env.items() if v is None]:
            base.pop(k, None)
        return load_settings(environ=base)
    return make


REDIS_URL = os.environ.get("ENRICHER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PG_BASE = os.environ.get("ENRICHER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Each run has its own queue name and schema, so two runs on one machine (a developer and
# CI, say) never take each other's tasks or drop each other's tables.
RUN_ID = f"t{os.getpid()}"
QUEUE_NAME = f"desk-enricher-{RUN_ID}"
POSTGRES_URL = f"{PG_BASE}?options=-csearch_path%3D{RUN_ID}"


def redis_unavailable() -> str | None:
    import redis
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
        return None
    except redis.RedisError as exc:
        return f"no Redis server at {REDIS_URL}: {exc}"


def postgres_unavailable() -> str | None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError
    try:
        engine = create_engine(PG_BASE, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except OperationalError as exc:
        return f"no PostgreSQL server at {POSTGRES_URL}: {str(exc).splitlines()[0]}"


def reset_scale_out_servers() -> None:
    """Empty this run's queue and ledger schema, so each test starts clean."""
    import redis
    from sqlalchemy import create_engine, text

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"*{QUEUE_NAME}*"):
        client.delete(key)
    engine = create_engine(PG_BASE)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{RUN_ID}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{RUN_ID}"'))
    engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def _drop_run_schema():
    yield
    if postgres_unavailable() is None:
        from sqlalchemy import create_engine, text
        engine = create_engine(PG_BASE)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{RUN_ID}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", "redis+postgres"])
def backend(request):
    """Environment for the queue and ledger: embedded defaults, or the scale-out servers."""
    if request.param == "sqlite":
        return {}
    reason = redis_unavailable() or postgres_unavailable()
    if reason:
        pytest.skip(reason)
    reset_scale_out_servers()
    return {"ENRICHER_QUEUE_URL": REDIS_URL, "ENRICHER_DATABASE_URL": POSTGRES_URL,
            "ENRICHER_QUEUE_NAME": QUEUE_NAME}


def drain(queue, limit: int = 20) -> None:
    """Run every ready and scheduled task, as the consumer would, without sleeping."""
    far = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=1)
    for _ in range(limit):
        for task in queue.huey.read_schedule(far):
            queue.huey.enqueue(task)
        task = queue.huey.dequeue()
        if task is None:
            return
        queue.huey.execute(task, timestamp=far)


@pytest.fixture
def client(app):
    """Flask's test client for the module's own `app` fixture."""
    return app.test_client()


def core(app):
    return app.extensions["enricher"]


@pytest.fixture
def sim():
    """A Zammad simulator on loopback, seeded from the real-shaped fixtures."""
    s = ZammadSimulator()
    s.start()
    yield s
    s.stop()


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    """A real local SMTP server (aiosmtpd): (port, envelopes received)."""
    from aiosmtpd.controller import Controller

    received: list = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"
    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, received
    controller.stop()


@pytest.fixture
def http_sink():
    """A local HTTP endpoint that records the JSON bodies posted to it (chat webhooks)."""
    import threading

    from werkzeug.serving import make_server
    from werkzeug.wrappers import Request, Response

    received: list = []

    @Request.application
    def app(request):
        received.append(json.loads(request.get_data()))
        return Response("ok")
    server = make_server("127.0.0.1", 0, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_port}", received
    server.shutdown()
