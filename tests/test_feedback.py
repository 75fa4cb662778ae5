"""The satisfaction page over real HTTP (a local server thread): opening a link casts
no vote, the POST from the page does; tampered and expired links get a clear page and
change nothing; voting again replaces the answer. And in headless Chromium at a
phone's size."""
from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests
from werkzeug.serving import make_server

from plugin.app import create_app
from plugin.notifiers import survey
from tests import browser

SECRET = "survey-secret-for-tests"


@contextlib.contextmanager
def serve(app, port=0):
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def site(make_settings):
    settings = make_settings(ENRICHER_SURVEY_SECRET=SECRET, ENRICHER_LOG_LEVEL="ERROR")
    app = create_app(settings)
    with serve(app) as url:
        yield url, app.extensions["enricher"].ledger


def link(base, code=1, language="zh-CN", ticket="1042", at=None):
    token = survey.make_token(SECRET, "zammad", ticket, code, language, at or datetime.now(UTC))
    return f"{base}/feedback/{token}"


def nothing_recorded(ledger):
    return ledger.rows("survey_votes") == [] and ledger.rows("timers") == []


def test_opening_a_link_shows_the_choice_and_casts_no_vote(site):
    base, ledger = site
    url = link(base, code=2)
    for _ in range(3):                                    # a mail scanner opens it, more than once
        page = requests.get(url, timeout=10)
        assert page.status_code == 200
    assert requests.head(url, timeout=10).status_code == 200
    assert nothing_recorded(ledger)
    html = page.text
    assert '<html lang="zh-CN">' in html and "您对这次服务满意吗？" in html
    assert 'value="2" checked' in html and 'value="1" required' in html      # the link's answer, chosen
    assert '<form method="post">' in html and 'name="comment"' in html
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]


def test_the_vote_is_the_post_from_the_page_and_asks_for_the_ticket_to_be_written(site):
    base, ledger = site
    answer = requests.post(link(base, code=1), data={"code": "3", "comment": "  等了 三天  "}, timeout=10)
    assert answer.status_code == 200 and "您的评价「不满意」已记录" in answer.text
    [vote] = ledger.rows("survey_votes")
    assert (vote["platform"], vote["ticket_id"], vote["code"], vote["comment"], vote["revision"]) == (
        "zammad", "1042", 3, "等了 三天", 1)
    [timer] = ledger.rows("timers")
    assert (timer["key"], timer["kind"], timer["status"]) == ("survey:1:zammad:1042", "reprocess", "pending")


def test_voting_again_replaces_the_answer(site):
    base, ledger = site
    requests.post(link(base, code=3), data={"code": "3", "comment": "太慢"}, timeout=10)
    again = requests.get(link(base, code=1), timeout=10)
    assert "您此前的评价：不满意" in again.text and ">太慢</textarea>" in again.text
    requests.post(link(base, code=1), data={"code": "1", "comment": "后来解决了"}, timeout=10)
    [vote] = ledger.rows("survey_votes")
    assert (vote["code"], vote["comment"], vote["revision"]) == (1, "后来解决了", 2)
    assert sorted(t["key"] for t in ledger.rows("timers")) == ["survey:1:zammad:1042", "survey:2:zammad:1042"]


def tampered(url):
    head, sig = url.rsplit(".", 1)
    return f"{head}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}"


@pytest.mark.parametrize("how", ["signature", "payload", "truncated", "garbage"])
def test_a_tampered_link_gets_a_clear_page_and_changes_nothing(site, how):
    base, ledger = site
    url = link(base, code=1)
    bad = {"signature": tampered(url),
           "payload": url.replace("/feedback/", "/feedback/X", 1),
           "truncated": url[:-12],
           "garbage": f"{base}/feedback/not-a-token"}[how]
    for response in (requests.get(bad, timeout=10), requests.post(bad, data={"code": "1"}, timeout=10)):
        assert response.status_code == 400
        assert "text/html" in response.headers["Content-Type"] and "链接无效" in response.text
    assert nothing_recorded(ledger)


def test_an_expired_link_gets_a_clear_page_in_its_language_and_changes_nothing(site):
    base, ledger = site
    old = link(base, code=1, language="en", at=datetime.now(UTC) - timedelta(days=15))
    for response in (requests.get(old, timeout=10), requests.post(old, data={"code": "1"}, timeout=10)):
        assert response.status_code == 410
        assert '<html lang="en">' in response.text and "This link has expired" in response.text
        assert "links last 14 days" in response.text
    assert nothing_recorded(ledger)


def test_a_post_without_a_choice_asks_for_one(site):
    base, ledger = site
    response = requests.post(link(base, code=2, language="en"), data={"comment": "hm"}, timeout=10)
    assert response.status_code == 400 and "Please choose one answer." in response.text
    assert nothing_recorded(ledger)


def test_a_comment_is_shown_back_as_text_never_as_markup(site):
    base, _ = site
    requests.post(link(base), data={"code": "2", "comment": "<script>alert(1)</script>"}, timeout=10)
    page = requests.get(link(base), timeout=10).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_without_a_survey_secret_the_page_says_there_is_no_survey(make_settings):
    app = create_app(make_settings(ENRICHER_LOG_LEVEL="ERROR"))
    with serve(app) as base:
        response = requests.get(link(base), headers={"Accept-Language": "en"}, timeout=10)
    assert response.status_code == 404 and "No survey here" in response.text


def test_the_page_works_on_a_phone_in_chromium(site, tmp_path):
    base, ledger = site
    url = link(base, code=1, language="zh-CN")
    dom = browser.dom(url, browser.PHONE)
    assert "您对这次服务满意吗？" in dom and dom.count('type="radio"') == 3 and "提交评价" in dom
    shot = browser.screenshot(url, tmp_path / "feedback-phone.png", browser.PHONE)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(shot.read_bytes()[16:20], "big")
    assert width == browser.PHONE[0]
    assert nothing_recorded(ledger)                    # a browser opening it casts no vote either
