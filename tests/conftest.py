"""Shared test fixtures: settings on a temp data dir, real-shaped payloads, signing."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path

import pytest

from plugin.settings import load_settings

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
