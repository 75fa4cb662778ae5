"""Property-based fuzzing of both webhook endpoints (issue 9).

Generated bodies (random JSON, real fixtures mutated, random bytes, a few known
hostile ones) under generated header sets (signed correctly, signed wrongly, missing,
non-ASCII; for Jira also the Automation token). For every request:

- never a 5xx;
- every error in the one shape `{"error", "message", "details"}`;
- nothing stored in the ledger or queued unless the request was authentic;
- what intake accepted, the adapter can normalize (no dead letter for its shape).

The suite runs a modest number of examples; bench/bench_fuzz.py runs the same
properties (`check`) for 10,000 and more and prints the tallies.
"""
from __future__ import annotations

import copy
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugin.app import create_app
from plugin.settings import load_settings

from .conftest import JIRA_FIXTURES, JIRA_SECRET, ZAMMAD_FIXTURES, ZAMMAD_SECRET, sign
from .jira_helpers import AUTOMATION_SECRET

TOKEN_HEADER = "X-Enricher-Token"
SHAPE = {"error", "message", "details"}
EXAMPLES = 120        # per endpoint in the suite; the bench runs thousands


def _fixtures(folder: Path, pattern: str) -> list[dict]:
    return [json.loads(p.read_bytes()) for p in sorted(folder.glob(pattern))
            if not p.name.endswith(".headers.json")]


ZAMMAD_DOCS = _fixtures(ZAMMAD_FIXTURES, "*.compact.json")
JIRA_DOCS = _fixtures(JIRA_FIXTURES, "*.json")
HOSTILE = [
    b"[" * 5000 + b"]" * 5000, b'{"a": ' + b"9" * 4301 + b"}", b'{"webhookEvent": "x\\ud800"}',
    b'{"webhookEvent": "jira:issue_created", "issue": {"id": 1, "key": "A-\\u0000", "fields": {}}}',
    b'{"ticket": {"id": 1e400, "title": "t", "updated_by_id": 3}}', b"\xff\xfe{}", b"", b"null",
    b'{"ticket": {"id": 99999999999999999999999, "title": "t", "updated_by_id": 3}}',
]

_leaf = (st.none() | st.booleans() | st.integers() | st.floats()
         | st.text(st.characters(codec="utf-8"), max_size=20))
json_values = st.recursive(_leaf, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)


def _slots(node, out):
    """Every (container, key) in a document: where a mutation can land."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        out.append((node, key))
        _slots(value, out)
    return out


@st.composite
def mutated(draw, docs: list[dict]) -> bytes:
    doc = copy.deepcopy(draw(st.sampled_from(docs)))
    for _ in range(draw(st.integers(1, 4))):
        slots = _slots(doc, [])
        if not slots:
            break
        node, key = draw(st.sampled_from(slots))
        action = draw(st.sampled_from(["replace", "replace", "delete", "wrap"]))
        if action == "delete":
            del node[key]
        elif action == "wrap":
            node[key] = draw(st.sampled_from([[node[key]], {"value": node[key]}, str(node[key])]))
        else:
            node[key] = draw(json_values)
    return json.dumps(doc, ensure_ascii=draw(st.booleans()), allow_nan=True).encode()


@st.composite
def byte_edits(draw, docs: list[dict]) -> bytes:
    raw = bytearray(json.dumps(draw(st.sampled_from(docs)), ensure_ascii=False).encode())
    at = draw(st.integers(0, len(raw)))
    return bytes(raw[:at] + draw(st.binary(max_size=8)) + raw[at + draw(st.integers(0, 8)):])


def bodies(docs: list[dict]):
    return st.one_of(mutated(docs), mutated(docs), byte_edits(docs), st.sampled_from(HOSTILE),
                     json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=64))


_latin = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=12)
KINDS = {"zammad": ["signed", "signed", "wrong", "missing", "non_ascii"],
         "jira": ["signed", "signed", "wrong", "missing", "non_ascii", "token", "token_wrong"]}


@dataclass(frozen=True)
class Request:
    platform: str
    body: bytes
    headers: dict
    authentic: bool
    kind: str


@st.composite
def requests_for(draw, platform: str) -> Request:
    body = draw(bodies(ZAMMAD_DOCS if platform == "zammad" else JIRA_DOCS))
    kind = draw(st.sampled_from(KINDS[platform]))
    secret, algo = (ZAMMAD_SECRET, "sha1") if platform == "zammad" else (JIRA_SECRET, "sha256")
    headers = {"Content-Type": "application/json"}
    delivery = draw(st.none() | _latin | st.text("d", min_size=190, max_size=210))
    if delivery is not None:
        headers["X-Zammad-Delivery" if platform == "zammad" else "X-Atlassian-Webhook-Identifier"] = delivery
    if kind == "signed":
        headers["X-Hub-Signature"] = sign(secret, body, algo)
    elif kind == "wrong":
        headers["X-Hub-Signature"] = sign(secret, body + b" ", algo)
    elif kind == "non_ascii":
        headers["X-Hub-Signature"] = f"{algo}=" + draw(_latin)
    elif kind in ("token", "token_wrong"):
        headers[TOKEN_HEADER] = AUTOMATION_SECRET if kind == "token" else draw(_latin)
    return Request(platform, body, headers, kind in ("signed", "token"), kind)


def make_app(data_dir: Path):
    env = {"ENRICHER_DATA_DIR": str(data_dir), "ENRICHER_ZAMMAD_URL": "http://zammad.test",
           "ENRICHER_ZAMMAD_TOKEN": "tok-123456", "ENRICHER_ZAMMAD_WEBHOOK_SECRET": ZAMMAD_SECRET,
           "ENRICHER_JIRA_URL": "http://jira.test", "ENRICHER_JIRA_USER": "bot@example-co.com",
           "ENRICHER_JIRA_TOKEN": "api-token-1", "ENRICHER_JIRA_WEBHOOK_SECRET": JIRA_SECRET,
           "ENRICHER_JIRA_AUTOMATION_SECRET": AUTOMATION_SECRET, "ENRICHER_LOG_LEVEL": "ERROR"}
    return create_app(load_settings(environ=env), bot_ids={"zammad": "90", "jira": "bot-account"})


def check(app, client, req: Request) -> str:
    """Send one request, assert the properties, return its outcome for the tallies."""
    core = app.extensions["enricher"]
    rows, queued = sum(core.ledger.status_counts().values()), core.queue.pending()
    resp = client.post(f"/hooks/{req.platform}", data=req.body, headers=req.headers)
    assert resp.status_code < 500, (resp.status_code, resp.get_data()[:500])
    answer = json.loads(resp.get_data())
    stored = sum(core.ledger.status_counts().values()) - rows
    if resp.status_code >= 400:
        assert set(answer) == SHAPE, answer
    if not req.authentic:
        assert resp.status_code == 401, answer
    assert stored == (1 if resp.status_code == 202 else 0), (resp.status_code, answer)
    assert core.queue.pending() - queued == stored
    if resp.status_code == 202:
        adapter = core.adapters[req.platform]
        ticket = adapter.normalize(adapter.parse(req.body))   # must not raise: no dead letter
        assert ticket.id
    outcome = answer.get("status") or answer["error"]
    return f"{resp.status_code} {outcome}"


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("fuzz") / "data")


TALLY: Counter = Counter()
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("platform", ["zammad", "jira"])
def test_fuzzed_requests_keep_the_intake_properties(fuzz_app, platform):
    client = fuzz_app.test_client()

    @FUZZ
    @given(requests_for(platform))
    def run(req):
        TALLY[check(fuzz_app, client, req)] += 1

    run()
