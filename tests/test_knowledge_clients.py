"""Knowledge-base search through both REST clients, against the real-shaped simulators
(Zammad; Jira Service Management Cloud and Data Center) and, for what a simulator
cannot send (a broken body), recorded answers: a knowledge base that is missing, not
licensed or failing gives no suggestions and one log line, never an exception."""
from __future__ import annotations

import logging

import pytest
import responses

from plugin.hooks.jira_api import JiraClient
from plugin.hooks.knowledge import zammad_query
from plugin.hooks.zammad_api import ZammadClient
from plugin.simulators.jira import JiraSimulator

from .jira_helpers import sim_client

ZAMMAD = "http://zammad.test"
JIRA = "https://example-co.atlassian.net"


def zammad(sim) -> ZammadClient:
    return ZammadClient(sim.base_url, "sim-token", retries=0)


@pytest.fixture
def kb(sim):
    sim.add_kb_answer("VPN 连接失败怎么办", "在家连接公司 VPN 时提示错误 809：请先检查网络，再重新拨号。",
                      category="网络 Network")
    sim.add_kb_answer("How to reset your password", "Open the self-service portal & choose <Forgot password>.",
                      locale="en-us", category="Accounts")
    sim.add_kb_answer("打印机卡纸处理", "打开前盖取出卡住的纸张。", published=False, internal=True)   # internal
    sim.add_kb_answer("VPN 草稿", "尚未发布的 VPN 说明", published=False)                              # a draft
    return sim


def test_zammad_finds_published_answers_with_help_center_links(kb):
    found = zammad(kb).search_knowledge("VPN连不上 提示连接失败 打印机", 5)
    assert [(a.title, a.source, a.id) for a in found] == [("VPN 连接失败怎么办", "zammad", "101")]
    assert found[0].url == f"{kb.base_url}/help/zh-cn/1-network/1-vpn"
    assert found[0].excerpt.startswith("在家连接公司 VPN 时提示错误 809")
    call = kb.calls[-1]
    assert (call.method, call.path) == ("POST", "/api/v1/knowledge_bases/search")
    assert call.body == {"query": "vpn OR 连不上 OR 提示连接失败 OR 打印机", "flavor": "public",
                         "index": "KnowledgeBase::Answer::Translation", "limit": 5,
                         "highlight_enabled": False, "include_subtitle": True}
    assert kb.writes() == []          # a search POST changes nothing


def test_zammad_text_comes_back_unescaped(kb):
    [answer] = zammad(kb).search_knowledge("reset password", 3)
    assert answer.excerpt == "Open the self-service portal & choose <Forgot password>."
    assert answer.url.endswith("/help/en-us/2-accounts/2-how-to-reset-your-password")


def test_zammad_limit_is_passed_on(kb):
    kb.add_kb_answer("VPN 客户端下载", "VPN 客户端安装包与说明。")
    assert len(zammad(kb).search_knowledge("VPN", 1)) == 1
    assert len(zammad(kb).search_knowledge("VPN", 5)) == 2


@pytest.mark.parametrize("query,expected", [
    ("VPN连不上 (错误:809)", "vpn OR 连不上 OR 错误 OR 809"),
    ('"quoted" a+b title:x c++ v2.1 [x]', "quoted OR title OR v2.1"),   # no query_string syntax
    ("the and of", ""),
])
def test_zammad_query_is_the_words_as_alternatives(query, expected):
    assert zammad_query(query) == expected


@pytest.mark.parametrize("trouble", ["missing", "500", "down"])
def test_zammad_without_a_working_knowledge_base_gives_nothing(kb, caplog, trouble):
    if trouble == "missing":
        kb.kb_missing = True              # a Zammad without the route answers 404
    elif trouble == "500":
        kb.fail_next(1, 500, match="knowledge_bases")
    else:
        kb.set_down()
    with caplog.at_level(logging.INFO, logger="desk_enricher.knowledge"):
        assert zammad(kb).search_knowledge("VPN", 3) == []
    [line] = [r for r in caplog.records if r.name == "desk_enricher.knowledge"]
    assert line.msg == "knowledge_unavailable" and line.platform == "zammad"


@responses.activate
@pytest.mark.parametrize("body,status", [
    ("<html>Bad gateway</html>", 200),                       # not JSON
    ('{"result": [], "details": {"oops": 1}}', 200),          # details not a list
    ('["not", "an", "object"]', 200),
    (('{"details": [null, 3, {"type": "KnowledgeBase::Category::Translation", "title": "x", "url": "/x"},'
      ' {"title": "", "url": "/help/a"}, {"title": "no link"}]}'), 200),
    ('{"error": "forbidden"}', 403),
])
def test_zammad_odd_answers_give_nothing(body, status):
    responses.add(responses.POST, f"{ZAMMAD}/api/v1/knowledge_bases/search", body=body, status=status,
                  content_type="application/json")
    assert ZammadClient(ZAMMAD, "t", retries=0).search_knowledge("VPN", 3) == []


@responses.activate
def test_zammad_keeps_a_custom_address_and_drops_highlight_marks():
    responses.add(responses.POST, f"{ZAMMAD}/api/v1/knowledge_bases/search", json={"details": [
        {"id": 7, "type": "KnowledgeBase::Answer::Translation", "title": "<em>VPN</em> &amp; Wi-Fi",
         "url": "https://help.example.com/kb/en-us/1-net/7-vpn", "body": "Use the <em>VPN</em> client"}]})
    [a] = ZammadClient(ZAMMAD, "t", retries=0).search_knowledge("VPN", 3)
    assert (a.title, a.url, a.excerpt) == ("VPN & Wi-Fi", "https://help.example.com/kb/en-us/1-net/7-vpn",
                                           "Use the VPN client")


# -- Jira Service Management ---------------------------------------------------------

@pytest.fixture(params=["cloud", "dc"])
def jsm(request):
    token = "sim-token" if request.param == "cloud" else "pat-1"
    with JiraSimulator(flavor=request.param, api_token=token) as sim:
        sim.add_kb_article("Stolen computer", "Assuming your computer was stolen, tell IT security at once.")
        sim.add_kb_article("VPN 连接失败", "在家连接公司 VPN 时提示错误 809，请先检查网络。", space_key="NET")
        sim.add_kb_article("Printer jam", "Open the front cover.", service_desks=("2",))
        yield sim


def test_jira_finds_confluence_articles(jsm):
    found = sim_client(jsm).search_knowledge("My computer was stolen this morning", 5)
    assert [(a.title, a.source, a.id) for a in found] == [("Stolen computer", "jira", "8786177")]
    assert found[0].excerpt.startswith("Assuming your computer was stolen")
    if jsm.flavor == "cloud":      # the Confluence page on the site
        assert found[0].url == f"{jsm.base_url}/wiki/spaces/IT/pages/8786177"
    else:                          # Data Center: Confluence is elsewhere, the portal's frame is not
        assert found[0].url == "https://example-co.atlassian.net/rest/servicedeskapi/knowledgebase/article/view/8786177"
    call = jsm.calls[-1]
    assert call.path == "/rest/servicedeskapi/knowledgebase/article"
    assert call.query == {"query": "My computer was stolen this morning", "highlight": "false", "limit": "5"}


def test_jira_chinese_query(jsm):
    found = sim_client(jsm).search_knowledge("VPN连不上 连接失败", 5)
    assert [a.title for a in found] == ["VPN 连接失败"]


@pytest.mark.parametrize("status", [403, 404, 501, 500])
def test_jira_without_a_knowledge_base_gives_nothing(jsm, caplog, status):
    jsm.kb_status = status
    with caplog.at_level(logging.INFO, logger="desk_enricher.knowledge"):
        assert sim_client(jsm).search_knowledge("stolen", 3) == []
    [line] = [r for r in caplog.records if r.name == "desk_enricher.knowledge"]
    assert (line.platform, line.status) == ("jira", status)


@responses.activate
def test_jira_sends_the_experimental_opt_in_and_tolerates_odd_values():
    responses.add(responses.GET, f"{JIRA}/rest/servicedeskapi/knowledgebase/article", json={
        "size": 4, "start": 0, "limit": 5, "isLastPage": True, "values": [
            None, {"title": "No link at all"},
            {"title": "@@@hl@@@Stolen@@@endhl@@@ laptop", "excerpt": "if it was @@@hl@@@stolen@@@endhl@@@",
             "source": {"type": "confluence", "pageId": "42", "spaceKey": "IT"}},
            {"title": "Linked page", "_links": {"web": "/wiki/x/AbC"}, "source": {"type": "confluence"}}]})
    found = JiraClient(JIRA, "tok", user="bot@example.com", retries=0).search_knowledge("stolen laptop", 5)
    assert [(a.title, a.url, a.excerpt) for a in found] == [
        ("Stolen laptop", f"{JIRA}/wiki/spaces/IT/pages/42", "if it was stolen"),
        ("Linked page", f"{JIRA}/wiki/x/AbC", "")]
    assert responses.calls[0].request.headers["X-ExperimentalApi"] == "opt-in"


@responses.activate
def test_jira_malformed_json_gives_nothing():
    responses.add(responses.GET, f"{JIRA}/rest/servicedeskapi/knowledgebase/article", body="{not json",
                  content_type="application/json")
    assert JiraClient(JIRA, "tok", user="bot@example.com", retries=0).search_knowledge("x y", 5) == []


def test_jira_sim_answers_per_service_desk_and_pages(jsm):
    client = sim_client(jsm)
    page = client.request("GET", "/rest/servicedeskapi/servicedesk/2/knowledgebase/article",
                          params={"query": "printer", "highlight": "true", "limit": 1})
    assert page["values"][0]["title"] == "@@@hl@@@Printer@@@endhl@@@ jam" and page["isLastPage"] is True
    assert page["values"][0]["source"] == {"type": "confluence", "pageId": "8786179", "spaceKey": "IT"}
    none = client.request("GET", "/rest/servicedeskapi/servicedesk/1/knowledgebase/article",
                          params={"query": "printer", "highlight": "false"})
    assert none["values"] == [] and none["size"] == 0
