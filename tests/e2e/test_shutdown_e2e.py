"""Ctrl-C in the admin's terminal: the whole process group gets SIGINT (gunicorn's
arbiter, its web workers, the queue worker). The service stops cleanly: exit within the
graceful timeout, and no traceback in its output."""
from __future__ import annotations

import os
import signal

import pytest

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("worker_class", ["gevent", "gthread"])
def test_ctrl_c_stops_the_service_without_a_traceback(service, worker_class):
    svc = service().start("--worker-class", worker_class)
    os.killpg(svc.proc.pid, signal.SIGINT)
    assert svc.proc.wait(timeout=20) is not None
    output = svc.log.read_text(errors="replace")
    assert "Traceback" not in output and "failed with SystemExit" not in output, output[-3000:]
