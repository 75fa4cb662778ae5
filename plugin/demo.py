"""`desk-enricher demo`: the product working in one command.

Starts a local Zammad simulator and the real service (`serve`, SQLite defaults)
in a child process, sends signed webhooks for a few Chinese and English tickets,
waits for the write-back, and prints what landed on each ticket.
"""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time

import click
import requests

DEMO_TICKETS = [
    ("VPN 无法连接", "您好，今天早上开始 VPN 一直连接失败，提示认证超时，无法访问公司内网，比较紧急。",
     "li.na@acme.example", "李娜"),
    ("Outlook keeps crashing", ("Hi, Outlook crashes every time I open the calendar since the "
                                "last update. Please help, I have meetings all day."),
     "tom.berg@acme.example", "Tom Berg"),
    ("申请开通报销系统权限", "新入职员工，需要开通费控报销系统的提交权限，部门：财务部。",
     "zhao.lei@acme.example", "赵磊"),
]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise click.ClickException("the service exited during start-up; see the log above")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise click.ClickException(f"the service did not become healthy at {url}")


def _wait_written(sim, ticket_ids: list[int], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = {int(c.path.rsplit("/", 1)[-1]) for c in sim.writes() if c.method == "PUT"}
        if set(ticket_ids) <= done:
            time.sleep(0.5)   # let the tag calls that follow the PUT land too
            return
        time.sleep(0.2)


def _print_ticket(sim, ticket_id: int) -> None:
    ticket = sim.tickets[ticket_id]
    click.secho(f"\n#{ticket.get('number', ticket_id)}  {ticket['title']}", bold=True)
    for key in sorted(k for k in ticket if k.startswith("enrich_")):
        click.echo(f"  {key:24} {ticket[key]}")
    click.echo(f"  {'tags':24} {', '.join(sim.tags.get(ticket_id, [])) or '-'}")
    notes = [a for a in sim.articles.get(ticket_id, []) if a.get("subject") == "desk-enricher"]
    for note in notes:
        internal = "internal" if note.get("internal") else "PUBLIC"
        click.echo(f"  note ({internal}):")
        for line in str(note.get("body", "")).splitlines():
            click.echo(f"    {line}")


@click.command()
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--data-dir", default=None, help="default: a fresh temporary directory")
@click.option("--keep-running", is_flag=True, help="keep the service and simulator up until Ctrl-C")
def demo(port: int, data_dir: str | None, keep_running: bool) -> None:
    """Run the service against a local Zammad simulator and show what it writes."""
    from .simulators.zammad import ZammadSimulator

    sim = ZammadSimulator()
    sim_url = sim.start()
    secret = secrets.token_hex(16)
    data_dir = data_dir or tempfile.mkdtemp(prefix="desk-enricher-demo-")
    env = {**os.environ, "ENRICHER_ZAMMAD_URL": sim_url, "ENRICHER_ZAMMAD_TOKEN": sim.token,
           "ENRICHER_ZAMMAD_WEBHOOK_SECRET": secret, "ENRICHER_DATA_DIR": data_dir,
           "ENRICHER_LOG_LEVEL": os.environ.get("ENRICHER_LOG_LEVEL", "WARNING")}
    for name in ("ENRICHER_QUEUE_URL", "ENRICHER_DATABASE_URL"):
        env.pop(name, None)
    proc = subprocess.Popen([sys.executable, "-m", "plugin", "serve", "--port", str(port),
                             "--web-workers", "2"], env=env)
    hook = f"http://127.0.0.1:{port}/hooks/zammad"
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/healthz", proc)
        click.secho(f"service on http://127.0.0.1:{port}  (data: {data_dir})", fg="green")
        click.secho(f"Zammad simulator on {sim_url}", fg="green")
        ids = [sim.create_ticket(title, body, email, customer_name=name)
               for title, body, email, name in DEMO_TICKETS]
        ids += [1042, 1077]   # the two seeded tickets from the real-shaped fixtures
        for tid in ids:
            first_article = sim.articles[tid][0]["id"] if sim.articles.get(tid) else None
            resp = sim.send_webhook(hook, secret, tid, article_id=first_article)
            click.echo(f"webhook ticket {tid}: HTTP {resp.status_code} {resp.json().get('status')}")
        _wait_written(sim, ids)
        for tid in ids:
            _print_ticket(sim, tid)
        writes = sim.writes()
        click.echo(f"\nREST writes: {len(writes)} for {len(ids)} tickets "
                   f"({sum(1 for c in writes if c.method == 'PUT')} PUT, "
                   f"{sum(1 for c in writes if 'tags' in c.path)} tag calls)")
        if keep_running:
            click.echo("\nRunning. Send more with the simulator; Ctrl-C stops both.")
            proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=15)
        sim.stop()
