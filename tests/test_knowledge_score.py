"""The knowledge scorer and ranking (plugin.tracking.knowledge) as tables, every score
counted by hand from the definition: ½ · share of the query's terms the title and
excerpt contain + ½ · share of the title's terms the query contains; words for Latin
text, character pairs for Chinese, the commonest words left out."""
from __future__ import annotations

import pytest

from plugin.models import Findings, KnowledgeArticle, Requester, Ticket
from plugin.tracking.knowledge import keywords, offered, query_of, score, strong, suggestions, terms


@pytest.mark.parametrize("text,expected", [
    ("VPN 连接失败", {"vpn", "连接", "接失", "失败"}),
    ("ＶＰＮ连不上", {"vpn", "连不", "不上"}),                       # full width folded, runs split
    ("How to reset your password?", {"reset", "password"}),          # the commonest words go
    ("打印机无法打印", {"打印", "印机", "机无", "法打"}),               # 无法 says nothing; 打印 once
    ("错误 809 on v2.1", {"错误", "809", "v2.1"}),
    ("我", {"我"}),                                                    # a lone character stays
    ("", set()),
])
def test_terms(text, expected):
    assert terms(text) == expected


@pytest.mark.parametrize("query,title,excerpt,expected", [
    # Q = {reset, password} = T: all of the query, all of the title
    ("Cannot reset my password", "How to reset your password", "", 1.0),
    # Q = {vpn 连接 接失 失败}, T = {vpn 连接 接失 失败 败怎 么办}: ½·4/4 + ½·4/6
    ("VPN 连接失败", "VPN 连接失败怎么办", "", 0.833),
    # T = {vpn 客户 户端 端下 下载}, E adds nothing of Q: ½·1/4 + ½·1/5
    ("VPN 连接失败", "VPN 客户端下载", "VPN 客户端安装包", 0.225),
    # the excerpt brings 卡纸: Q = {打印 印机 卡纸} all covered; T has 5 terms, 2 in Q
    ("打印机 卡纸", "打印机常见问题", "卡纸时打开前盖", 0.7),
    # Q = {vpn 连不 不上}, T = {vpn 连接}: ½·1/3 + ½·1/2
    ("ＶＰＮ连不上", "VPN 连接", "", 0.417),
    ("VPN 连接失败", "打印机卡纸", "打开前盖", 0.0),
    ("", "VPN", "", 0.0),
    ("VPN", "", "VPN everywhere", 0.0),                 # no title, nothing to show the agent
])
def test_score(query, title, excerpt, expected):
    assert score(query, title, excerpt) == expected


def kb(title: str, url: str, excerpt: str = "", source: str = "zammad") -> KnowledgeArticle:
    return KnowledgeArticle(title, url, source, excerpt=excerpt, score=0.99)   # the platform's score is replaced


PLATFORM = [
    kb("VPN 客户端下载", "https://kb/b", "VPN 客户端安装包"),                  # 0.225
    kb("VPN 连接失败怎么办", "https://kb/a"),                                   # 0.833
    kb("打印机卡纸", "https://kb/c"),                                           # 0: shares nothing, dropped
    kb("VPN 连接", "https://KB.example.com/vpn/"),                              # 0.75, the catalog's link too
    kb("VPN 无链接", ""),                                                        # no link: dropped
]
SELF_HELP = [{"title": "VPN 连接自助排查", "url": "https://kb.example.com/vpn"},   # 0.417 < 0.75 kept above
             {"title": "Business system guides", "url": "https://kb.example.com/biz"},   # 0, kept: chosen by an admin
             {"title": "No url", "url": ""}]


@pytest.mark.parametrize("max_results,expected", [
    (10, [("VPN 连接失败怎么办", 0.833, "zammad"), ("VPN 连接", 0.75, "zammad"), ("VPN 客户端下载", 0.225, "zammad"),
          ("Business system guides", 0.0, "catalog")]),
    (2, [("VPN 连接失败怎么办", 0.833, "zammad"), ("VPN 连接", 0.75, "zammad")]),
])
def test_suggestions_rank_on_one_scale_and_keep_one_per_link(max_results, expected):
    ranked = suggestions("VPN 连接失败", PLATFORM, SELF_HELP, max_results)
    assert [(a.title, a.score, a.source) for a in ranked] == expected


def test_a_better_catalog_link_wins_its_duplicate_and_ties_put_the_platform_first():
    platform = [kb("Guide", "https://kb/x/", source="jira"), kb("VPN guide", "https://kb/y", source="jira")]
    helps = [{"title": "VPN guide", "url": "https://kb/x"}, {"title": "VPN guide", "url": "https://kb/z"}]
    ranked = suggestions("VPN guide", platform, helps, 5)
    # kb/x: the platform's "Guide" scores ½·1/2 + ½·1/1 = 0.75, the catalog's "VPN guide" 1.0: one kept
    assert [(a.url, a.source, a.score) for a in ranked] == [
        ("https://kb/y", "jira", 1.0), ("https://kb/x", "catalog", 1.0), ("https://kb/z", "catalog", 1.0)]


def test_without_anything_there_is_nothing():
    assert suggestions("VPN", (), (), 3) == []


RANKED = suggestions("VPN 连接失败", PLATFORM, SELF_HELP, 10)


@pytest.mark.parametrize("stream,threshold,expected", [
    ("consultation", 0.6, ["https://kb/a", "https://KB.example.com/vpn/"]),
    ("service_request", 0.8, ["https://kb/a"]),
    ("incident", 0.0, []),              # an incident needs an engineer, whatever a guide says
    ("complaint", 0.0, []),
    (None, 0.0, []),
])
def test_only_service_requests_and_consultations_are_offered_to_the_requester(stream, threshold, expected):
    assert [a.url for a in strong(RANKED, stream, threshold)] == expected


def test_offered_reads_the_knowledge_steps_strong_matches():
    facts = {"strong": [{"title": "VPN", "url": "https://kb/a", "score": 0.9}, {"title": "", "url": "x"}, "odd"]}
    assert offered({"knowledge": Findings("knowledge", facts=facts)}) == [{"title": "VPN", "url": "https://kb/a"}]
    assert offered({"knowledge": Findings("knowledge")}) == []
    assert offered({}) == []            # the pipeline has no knowledge step


def test_query_is_the_title_and_the_start_of_the_body():
    t = Ticket(platform="zammad", id="1", number="1", title="VPN 连不上", requester=Requester(id="1"),
               body="在家   无法连接公司 VPN，\n提示错误 809。" + "后面的内容" * 40)
    q = query_of(t)
    assert q.startswith("VPN 连不上 在家 无法连接公司 VPN， 提示错误 809。后面的内容")
    assert len(q) == len("VPN 连不上 ") + 80


def test_keywords_are_what_the_platform_is_asked_for():
    assert keywords("Outlook 打不开, outlook crashes; the 打不开 again", 3) == ["outlook", "打不开", "crashes"]
