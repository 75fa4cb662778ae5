"""`install zammad` offers to switch off Zammad's stock auto-reply trigger, so a new
ticket's requester is acknowledged once (by the plugin): shown by a dry run, done by
a run, nothing more by a second; `doctor` says when both would answer."""
from __future__ import annotations

from plugin.admin import zammad as admin
from plugin.hooks.zammad_api import ZammadClient
from plugin.manifest import load_manifest

PUBLIC = "https://enricher.example.com"
SECRET = "hook-secret-1"
# As db/seeds/triggers.rb seeds it (ids resolved).
STOCK = {"name": "auto reply (on new tickets)", "active": True, "activator": "action",
         "condition": {"ticket.action": {"operator": "is", "value": "create"},
                       "ticket.state_id": {"operator": "is not", "value": "4"},
                       "article.type_id": {"operator": "is", "value": ["1", "5", "11"]},
                       "article.sender_id": {"operator": "is", "value": "2"}},
         "perform": {"notification.email": {"body": "<div>Your request (Ticket##{ticket.number}) has been "
                                                    "received and will be reviewed by our support staff.</div>",
                                            "recipient": "article_last_sender",
                                            "subject": "Thanks for your inquiry (#{ticket.title})"}}}
RENAMED = {**STOCK, "name": "Eingangsbestätigung"}
OTHER = {**STOCK, "name": "notify owner", "condition": {"ticket.action": {"operator": "is", "value": "update"}},
         "perform": {"notification.email": {"recipient": "ticket_owner", "body": "x", "subject": "y"}}}


def seeded(sim, *triggers):
    for i, trigger in enumerate(triggers, start=1):
        sim.triggers[i] = {**trigger, "id": i}
    return ZammadClient(sim.base_url, sim.token, retries=0)


def install(client, **kw):
    return admin.install(client, load_manifest(), PUBLIC, SECRET, client.bot_id(), **kw)


def test_a_dry_run_shows_the_offer_and_changes_nothing(sim):
    client = seeded(sim, STOCK, RENAMED, OTHER)
    changes = install(client, dry_run=True, deactivate_auto_reply=True)
    offered = [c.line() for c in changes if c.action == "deactivate"]
    assert offered == ["deactivate trigger  auto reply (on new tickets)", "deactivate trigger  Eingangsbestätigung"]
    assert sim.writes(include_admin=True) == []


def test_install_switches_it_off_once_and_keeps_the_rest_of_it(sim):
    client = seeded(sim, STOCK, OTHER)
    install(client, deactivate_auto_reply=True)
    assert sim.triggers[1]["active"] is False
    assert sim.triggers[1]["perform"] == STOCK["perform"]          # only switched off: it can come back
    assert sim.triggers[2]["active"] is True                        # not an acknowledgement: untouched
    assert [c for c in install(client, deactivate_auto_reply=True) if c.action == "deactivate"] == []


def test_without_the_flag_install_leaves_it_alone_and_doctor_says_so(sim):
    client = seeded(sim, STOCK)
    install(client)
    assert sim.triggers[1]["active"] is True
    [check] = [c for c in admin.checks(client, load_manifest(), PUBLIC) if c.key == "zammad.auto_reply"]
    assert not check.ok and "requesters get two acknowledgements" in check.detail
    install(client, deactivate_auto_reply=True)
    [check] = [c for c in admin.checks(client, load_manifest(), PUBLIC) if c.key == "zammad.auto_reply"]
    assert check.ok
