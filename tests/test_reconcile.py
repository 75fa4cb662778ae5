"""Reconciler details found by the downtime and outage benchmarks."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from plugin.errors import PlatformError
from plugin.hooks.zammad import ZammadAdapter
from plugin.hooks.zammad_api import ZammadClient


def client_for(sim, **kw):
    return ZammadClient(sim.base_url, sim.token, retries=0, **kw)


def test_sweep_paging_survives_writes_between_pages(sim):
    """Workers write to tickets of page 1 while the sweep reads page 2: none is skipped."""
    since = datetime.now(UTC) - timedelta(minutes=1)
    created = [sim.create_ticket(f"t{i}", "b", f"u{i}@acme.example") for i in range(30)]
    client = client_for(sim)
    seen = []
    for n, (tid, _, _) in enumerate(client.updated_since(since, per_page=10)):
        seen.append(int(tid))
        if n == 5:   # a worker enriches the first tickets: their updated_at jumps to now
            for written in created[:6]:
                sim.update_ticket(written, {"enrich_record_quality": 86}, 90)
    assert set(created) <= set(seen)


def test_rebuilt_payload_normalizes_like_the_webhook(sim, make_settings):
    """A ticket queued by the reconciler must score as its webhook would (channel included)."""
    tid = sim.create_ticket("VPN 无法连接", "VPN 一直连接失败。", "li.na@acme.example", customer_name="李娜")
    adapter = ZammadAdapter(make_settings())
    from_webhook = adapter.normalize(adapter.parse(sim.webhook_body(tid, sim.articles[tid][0]["id"])))
    rebuilt = adapter.normalize(json.loads(client_for(sim).webhook_payload(str(tid))))
    for attr in ("channel", "title", "body", "state", "priority", "group"):
        assert getattr(rebuilt, attr) == getattr(from_webhook, attr), attr
    assert rebuilt.requester.email == from_webhook.requester.email
    assert rebuilt.channel == "email"


def test_read_timeout_is_reported_as_timeout(sim):
    sim.hang_next(1, 1.5)
    with pytest.raises(PlatformError) as err:
        client_for(sim, timeout=0.5).me()
    assert err.value.key == "timeout" and err.value.retryable
