"""Jira test helpers: the shared fixtures' exact bytes and headers, settings for a
simulator, field set-up by the field rule, and a queue drain."""
from __future__ import annotations

import json

from plugin.hooks.jira_api import JiraClient
from plugin.manifest import load_manifest

from .conftest import JIRA_FIXTURES, drain, sign  # noqa: F401  (drain: used by the Jira tests)

AUTOMATION_SECRET = "auto-0123456789"


def jira_names() -> list[str]:
    return sorted(p.stem for p in JIRA_FIXTURES.glob("*.json") if not p.stem.endswith(".headers"))


def jira_body(name: str) -> bytes:
    """Exact bytes of a fixture: what its X-Hub-Signature was computed over."""
    return (JIRA_FIXTURES / f"{name}.json").read_bytes()


def jira_fixture(name: str) -> dict:
    return json.loads(jira_body(name))


def jira_headers(name: str) -> dict[str, str]:
    headers = json.loads((JIRA_FIXTURES / f"{name}.headers.json").read_text("utf-8"))
    return {k: v for k, v in headers.items() if not k.startswith("_")}


def signed(body: bytes, secret: str, delivery: str) -> dict[str, str]:
    return {"Content-Type": "application/json; charset=utf-8",
            "X-Atlassian-Webhook-Identifier": delivery, "X-Hub-Signature": sign(secret, body, "sha256")}


def compact(data: dict) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def jira_env(sim, secret: str | None = None, **more: str) -> dict[str, str]:
    env = {"ENRICHER_JIRA_URL": sim.base_url, "ENRICHER_JIRA_USER": sim.email,
           "ENRICHER_JIRA_TOKEN": sim.api_token, "ENRICHER_JIRA_FLAVOR": sim.flavor}
    if secret:
        env["ENRICHER_JIRA_WEBHOOK_SECRET"] = secret
    return {**env, **more}


def sim_client(sim, **kw) -> JiraClient:
    return JiraClient(sim.base_url, sim.api_token, user=sim.email, flavor=sim.flavor, retries=0, **kw)


def install_fields(sim) -> dict[str, str]:
    """Create each manifest field as install does: a text field named by our field name."""
    client = sim_client(sim)
    have = client.own_fields()
    for field in load_manifest()["fields"]:
        if field["name"] not in have:
            client.create_field(field["name"], field["label"]["en"])
    ids = {name: f["id"] for name, f in client.own_fields().items()}
    sim.reset_calls()
    return ids
