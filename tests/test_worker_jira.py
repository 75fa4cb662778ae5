"""The worker and JiraClient against the Jira simulator over loopback: one PUT plus one
internal JSM comment per first enrichment, nothing on a replay, Cloud (v3, ADF) and
Data Center (v2, wiki), the field lookup cached, 429 Retry-After, readable errors."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import responses

from plugin import reconcile
from plugin.errors import PlatformError
from plugin.hooks.jira_api import JiraClient
from plugin.manifest import load_manifest
from plugin.models import WritePlan
from plugin.queue import Queue
from plugin.simulators.jira import JiraSimulator
from plugin.store import Ledger
from plugin.worker import Processor

from .jira_helpers import drain, install_fields, jira_body, jira_env, sim_client

KEY = "ITSD-42"


@pytest.fixture(params=["cloud", "dc"])
def sim(request):
    token = "pat-1" if request.param == "dc" else "sim-token"
    with JiraSimulator(flavor=request.param, api_token=token) as s:
        yield s


@pytest.fixture
def cloud():
    with JiraSimulator() as s:
        yield s


def make_setup(make_settings, sim):
    ids = install_fields(sim)
    settings = make_settings(ENRICHER_MAX_ATTEMPTS="3", **jira_env(sim, "jira-webhook-secret"))
    ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
    client = sim_client(sim)
    processor = Processor(settings, ledger, load_manifest(), clients={"jira": client})
    return ledger, Queue(settings, ledger, lambda: processor), processor, ids


@pytest.fixture
def setup(make_settings, sim):
    return make_setup(make_settings, sim)


def accept(ledger, queue, name="issue_created_jsm", key="d1", body=None):
    pk, _ = ledger.accept("jira", key, KEY, name, body or jira_body(name))
    queue.enqueue(pk)
    return pk


def calls(sim):
    return [(c.method, c.path) for c in sim.calls]


def history_call(sim):
    """The ticket's history: Cloud's paged changelog, Data Center's expand=changelog."""
    api = "/rest/api/3" if sim.flavor == "cloud" else "/rest/api/2"
    return ("GET", f"{api}/issue/{KEY}/changelog") if sim.flavor == "cloud" else ("GET", f"{api}/issue/{KEY}")


def kinds_of_comments(sim):
    """The plugin's internal notes and public replies on the request."""
    ours = [c for c in sim.issues[KEY]["comments"] if "Ref de:" in str(c["body"])]
    return {"note": sum(1 for c in ours if not c["public"]), "reply": sum(1 for c in ours if c["public"])}


def test_first_enrichment_is_one_put_and_one_internal_comment(sim, setup):
    ledger, queue, _, ids = setup
    pk = accept(ledger, queue)
    drain(queue)
    assert ledger.delivery(pk)["status"] == "done"
    api = "/rest/api/3" if sim.flavor == "cloud" else "/rest/api/2"
    # One GET of the issue, one of its history (the KPI step asks for it), one search of the
    # knowledge base (a new ticket), one PUT, then the internal note and the acknowledgement.
    assert calls(sim) == [("GET", f"{api}/myself"), ("GET", f"{api}/field"),
                          ("GET", f"{api}/issue/{KEY}"), history_call(sim),
                          ("GET", "/rest/servicedeskapi/knowledgebase/article"), ("PUT", f"{api}/issue/{KEY}"),
                          ("POST", f"/rest/servicedeskapi/request/{KEY}/comment"),
                          ("POST", f"/rest/servicedeskapi/request/{KEY}/comment")]
    put, comment, ack = sim.writes()
    assert ack.body["public"] is True and KEY in ack.body["body"]
    assert put.query == {"notifyUsers": "false"} and sim.edits[-1].notify_users is False
    # Dana has an e-mail (read over REST: webhooks never carry it), no organization, no
    # department: 5 of 7 required fields, 71%, under the 80% bar.
    assert set(put.body) == {"fields", "update"}
    assert put.body["fields"][ids["enrich_record_quality"]] == "71"
    # classification writes its fields in the same PUT (this request is too vague for a
    # confident category: it goes to triage); every one is one of our custom fields
    assert put.body["fields"][ids["enrich_triage"]] == "true"
    assert put.body["fields"][ids["enrich_value_stream"]] and ids["enrich_category"] not in put.body["fields"]
    assert set(put.body["fields"]) <= set(ids.values())
    labels = [op["add"] for op in put.body["update"]["labels"]]
    assert "enrich:record-incomplete" in labels and any(lb.startswith("enrich:vs:") for lb in labels)
    assert comment.body["public"] is False and comment.body["body"].startswith("[desk-enricher]")
    assert isinstance(comment.body["body"], str)          # the JSM API takes text on both flavors
    fields = sim.issues[KEY]["fields"]
    assert fields[ids["enrich_record_quality"]] == "71" and fields["labels"] == labels


def test_replay_and_later_events_for_the_same_state_write_nothing(sim, setup):
    ledger, queue, _, _ = setup
    accept(ledger, queue, key="first")
    drain(queue)
    sim.reset_calls()
    pk2 = accept(ledger, queue, key="second")                       # same state, new delivery
    accept(ledger, queue, "comment_created", key="comment")         # cut-down issue, no reporter
    drain(queue)
    queue.replay([pk2])
    drain(queue)
    assert sim.writes() == []
    # Bot id and field catalogue are cached: each replay costs one GET of the issue.
    api = "/rest/api/3" if sim.flavor == "cloud" else "/rest/api/2"
    assert calls(sim) == [("GET", f"{api}/issue/{KEY}"), history_call(sim)] * 3
    assert [o["outcome"] for o in ledger.rows("outcomes")] == ["enriched", "unchanged", "unchanged",
                                                               "unchanged"]
    assert kinds_of_comments(sim) == {"note": 1, "reply": 1}


def test_field_catalogue_is_fetched_once_per_client(cloud, make_settings):
    ledger, queue, _, _ = make_setup(make_settings, cloud)
    keys = [cloud.create_request(f"Printer {i} jams", "Tray 2 again.", f"p{i}@acme.example", f"P {i}")
            for i in range(3)]
    for i, key in enumerate(keys):
        pk, _ = ledger.accept("jira", f"k{i}", key, "jira:issue_created",
                              cloud.webhook_body("jira:issue_created", key))
        queue.enqueue(pk)
    drain(queue)
    assert calls(cloud).count(("GET", "/rest/api/3/field")) == 1
    assert len([c for c in cloud.writes() if c.method == "PUT"]) == 3


def test_own_write_coming_back_is_ignored(cloud, make_settings):
    ledger, queue, _, _ = make_setup(make_settings, cloud)
    accept(ledger, queue)
    drain(queue)
    body = cloud.webhook_body("jira:issue_updated", KEY)              # our PUT's changelog, by the bot
    comment = cloud.webhook_body("comment_created", KEY)              # our note
    pks = [accept(ledger, queue, body=b, key=f"own{i}") for i, b in enumerate((body, comment))]
    drain(queue)
    assert [ledger.delivery(pk)["status"] for pk in pks] == ["ignored", "ignored"]


def test_rich_text_is_adf_on_cloud_and_wiki_on_dc(sim):
    client = sim_client(sim)
    made = client.request("POST", f"{client.api}/field", json={
        "name": "enrich_summary_note", "type": "com.atlassian.jira.plugin.system.customfieldtypes:textarea"})
    sim.fail_next(1, status=404, match="POST /rest/servicedeskapi")   # not a JSM request
    client.apply(WritePlan(KEY, fields={"enrich_summary_note": "line one\nline two"},
                           note="[desk-enricher]\nx"))
    put, _, comment = sim.writes()
    value = put.body["fields"][made["id"]]
    if sim.flavor == "cloud":
        assert value["type"] == "doc" and comment.body["body"]["type"] == "doc"
    else:
        assert value == "line one\nline two" and comment.body["body"] == "[desk-enricher]\nx"
    assert comment.body["properties"] == [{"key": "sd.public.comment", "value": {"internal": True}}]
    assert sim.issues[KEY]["comments"][-1]["public"] is False
    state = client.current_state(KEY)
    assert state.fields["enrich_summary_note"] == "line one\nline two"   # read back as text
    assert state.notes == ("[desk-enricher]\nx",)


def test_429_retry_after_becomes_a_scheduled_retry(cloud, make_settings):
    ledger, queue, _, _ = make_setup(make_settings, cloud)
    cloud.fail_next(1, status=429, retry_after=7, match="PUT /rest/api/3/issue")
    pk = accept(ledger, queue)
    queue.huey.execute(queue.huey.dequeue())
    (task,) = queue.huey.scheduled()
    wait = (task.eta - dt.datetime.now(dt.UTC).replace(tzinfo=None)).total_seconds()
    assert 5.5 < wait <= 7.0
    assert ledger.delivery(pk)["last_error"].startswith("jira is rate limiting")
    drain(queue)
    assert ledger.delivery(pk)["status"] == "done" and kinds_of_comments(cloud) == {"note": 1, "reply": 1}


def test_429_surfaces_retry_after_on_the_error(cloud):
    cloud.fail_next(1, status=429, retry_after=7)
    with pytest.raises(PlatformError) as err:
        sim_client(cloud).bot_id()
    assert (err.value.key, err.value.retryable, err.value.retry_after) == ("rate_limited", True, 7.0)


@pytest.mark.parametrize("plan,key,text", [
    (WritePlan(KEY, add_tags=("two words",)), "rejected",
     ("jira refused PUT /rest/api/3/issue/ITSD-42 with HTTP 400: "
     "labels: The label 'two words' contains spaces")),
    (WritePlan(KEY, note="   "), "rejected", "HTTP 400: The comment body must not be empty."),
    (WritePlan("ITSD-999", add_tags=("x",)), "not_found", "jira has no /rest/api/3/issue/ITSD-999"),
])
def test_errors_are_translated_into_readable_messages(cloud, plan, key, text):
    with pytest.raises(PlatformError) as err:
        sim_client(cloud).apply(plan)
    assert err.value.key == key and text in err.value.message


def test_wrong_token_is_invalid_auth_without_the_token_in_the_message(cloud):
    client = sim_client(cloud)
    client.session.auth = (cloud.email, "wrong-secret-token")
    with pytest.raises(PlatformError) as err:
        client.bot_id()
    assert err.value.key == "invalid_auth" and "wrong-secret-token" not in err.value.message
    assert "Client must be authenticated" in err.value.message


def test_reply_is_public_only_when_asked(cloud):
    client = sim_client(cloud)
    client.reply(KEY, "We reset your VPN profile.")
    client.reply(KEY, "Checked the RADIUS log.", public=False)
    assert [c["public"] for c in cloud.issues[KEY]["comments"]] == [True, False]


def test_reconciler_queues_requests_whose_webhook_never_came(sim, setup):
    ledger, queue, processor, ids = setup
    keys = [sim.create_request(f"VPN {i} down", "Error 809.", f"v{i}@acme.example", f"V {i}",
                               organization="Acme") for i in range(3)]
    assert reconcile.sweep(processor, queue, "jira") == 3   # the seeded ITSD-42 is older than a day
    drain(queue)
    assert all(sim.issues[key]["fields"][ids["enrich_record_quality"]] == "86" for key in keys)
    body = json.loads(ledger.rows("deliveries")[0]["body"])
    assert body["webhookEvent"] == "jira:issue_updated" and body["names"]
    # Jira's search cannot name the last actor (comments are not in the changelog), so our
    # own write looks like news once: one more look, no write; then the sweep is quiet.
    sim.reset_calls()
    assert reconcile.sweep(processor, queue, "jira") == 3
    drain(queue)
    assert sim.writes() == []
    assert reconcile.sweep(processor, queue, "jira") == 0


@pytest.mark.parametrize("flavor,param,user,expected", [
    ("cloud", "query", {"accountId": "5b10-bot", "emailAddress": "bot@example-co.com"}, "5b10-bot"),
    ("dc", "username", {"name": "bot", "key": "JIRAUSER1", "emailAddress": "bot@example-co.com"}, "bot"),
])
def test_find_user_id_for_install(flavor, param, user, expected):
    client = JiraClient("http://jira.test", "tok", user="admin@example-co.com", flavor=flavor, retries=0)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"http://jira.test{client.api}/user/search", json=[user],
                 match=[responses.matchers.query_param_matcher({param: "bot@example-co.com"})])
        assert client.find_user_id("bot@example-co.com") == expected
        rsps.add(responses.GET, f"http://jira.test{client.api}/user/search", json=[])
        with pytest.raises(PlatformError) as err:
            client.find_user_id("nobody")
    assert err.value.key == "not_found"


def test_a_note_lost_after_the_fields_landed_is_written_on_the_retry(sim, setup):
    """The comment POST fails after the fields PUT landed: the retry writes no field
    again, and the note still comes, once."""
    ledger, queue, _, _ = setup
    sim.fail_next(1, status=500, match="/comment")
    pk = accept(ledger, queue)
    drain(queue)
    assert ledger.delivery(pk)["status"] == "done"
    assert [c.method for c in sim.writes()].count("PUT") == 1
    notes = [c for c in sim.issues[KEY]["comments"] if "desk-enricher" in json.dumps(c, ensure_ascii=False)]
    assert len(notes) == 1


def test_jira_without_our_fields_still_gets_labels_and_the_note(sim, make_settings):
    """Not installed yet: the fields are left out (logged, counted in the outcome), the
    rest is written, and doctor names the fix (tests/test_admin_jira.py)."""
    settings = make_settings(**jira_env(sim, "jira-webhook-secret"))
    ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
    processor = Processor(settings, ledger, load_manifest(), clients={"jira": sim_client(sim)})
    queue = Queue(settings, ledger, lambda: processor)
    pk = accept(ledger, queue)
    drain(queue)
    assert ledger.delivery(pk)["status"] == "done"
    put = next(c for c in sim.writes() if c.method == "PUT")
    assert "fields" not in put.body and put.body["update"]["labels"]
    assert kinds_of_comments(sim) == {"note": 1, "reply": 1}
    [out] = ledger.rows("outcomes")
    assert out["outcome"] == "enriched" and "fields missing on the platform: enrich_" in out["detail"]


def test_a_public_reply_is_a_public_jsm_comment_with_wiki_escaped_text_and_its_marker(sim):
    from plugin.hooks.markup import marker
    from plugin.models import Article

    client = sim_client(sim)
    article = Article(key="jira:ITSD-42:ack:requester:ticket", marker=marker("jira:ITSD-42:ack:requester:ticket"),
                      body="已受理 your request about [VPN|http://evil.example] *now*", public=True)
    client.post_article(KEY, article)
    comment = sim.issues[KEY]["comments"][-1]
    assert comment["public"] is True
    text = json.dumps(comment, ensure_ascii=False)
    assert r"\\[VPN\\|http://evil.example\\]" in text and r"\\*now\\*" in text
    assert article.marker in client.current_state(KEY).markers      # a retry finds it
