from __future__ import annotations

import pytest

from .harness import SECRET, Service


@pytest.fixture
def service(tmp_path, sim):
    services = []

    def make(**env):
        svc = Service(tmp_path / "data", {
            "ENRICHER_ZAMMAD_URL": sim.base_url, "ENRICHER_ZAMMAD_TOKEN": sim.token,
            "ENRICHER_ZAMMAD_WEBHOOK_SECRET": SECRET, **env})
        services.append(svc)
        return svc
    yield make
    for svc in services:
        svc.stop()
