"""What each figure of the review report means (DOMAIN.md, 流程衡量指标), in both languages.

One list for every format: the HTML page links each figure to its entry here (#def-<id>),
the JSON report carries them, the CSV names its columns after the ids.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Definition:
    id: str
    zh: str
    en: str
    how_zh: str
    how_en: str
    unit: str = ""            # "min" | "%" | "" (a count)


DEFINITIONS: tuple[Definition, ...] = (
    Definition("tickets", "工单数", "Ticket count",
               "统计期内登记(创建)的工单数。", "Tickets registered (created) in the period."),
    Definition("avg_response_minutes", "平均响应时间", "Average response time",
               "已受理工单的(受理时间 − 登记时间)之和 ÷ 已受理工单数；从“待受理”到“处理中”，按服务级别的工作分钟计。",
               "Sum over accepted tickets of (accepted − registered) ÷ tickets accepted: from 待受理 "
               "(registered) to 处理中 (in progress), in working minutes of the ticket's service level.",
               "min"),
    Definition("response_attainment", "响应时限达成率", "Response-limit attainment",
               "在响应时限内受理的工单 ÷ 已有结论的工单(已受理，或未受理但已超过时限)。",
               "Tickets accepted within the response limit ÷ tickets with a verdict (accepted, or "
               "still waiting past the limit).", "%"),
    Definition("sla_attainment", "SLA 达成率", "SLA attainment",
               "在目标时间内解决的工单 ÷ 已有结论的工单(已解决，或已超时)；有平台 SLA 时以平台判定为准，"
               "否则按优先级的解决目标计(等待用户或第三方、已解决待重开的时间不计)；无服务级别的事项不计入。",
               "Tickets resolved within target ÷ tickets with a verdict (resolved, or breached). The "
               "platform's own SLA decides where it keeps one; otherwise the desk's resolution target "
               "for the priority, with waiting on the requester or a third party not counted. Items "
               "without a service level are left out.", "%"),
    Definition("avg_first_response_minutes", "平均首次响应时间", "Average first response time",
               "从用户提出请求到工程师首次处理(受理或首次公开回复，取早者)的工作分钟平均值。",
               "Working minutes from the user's request to an engineer's first action (accepting it "
               "or the first public reply, whichever came first), averaged.", "min"),
    Definition("avg_resolution_minutes", "平均解决时间", "Average resolution time",
               "从工程师首次处理到解决的工作分钟平均值(重开前已解决的时间不计)。",
               "Working minutes from the engineer's first action to resolution (time it stood solved "
               "before a reopen not counted), averaged over resolved tickets.", "min"),
    Definition("avg_handling_minutes", "平均处理时间", "Average handling time",
               "处理时间 = 解决时间 − 等待时间(等待用户或第三方)，按已解决工单平均。",
               "Handling time = resolution time − waiting time (on the requester or a third party), "
               "averaged over resolved tickets.", "min"),
    Definition("avg_waiting_share", "平均等待占比", "Average waiting share",
               "每张已解决工单的等待时间 ÷ 解决时间，再取平均。",
               "Per resolved ticket, waiting time ÷ resolution time; averaged.", "%"),
    Definition("satisfaction", "用户满意度", "User satisfaction",
               "已回复调查中 满意(1) / 一般(2) / 不满意(3) 的占比。",
               "Shares of 满意 satisfied (1), 一般 neutral (2), 不满意 dissatisfied (3) among the "
               "survey answers received.", "%"),
    Definition("misclassification_rate", "错误分类率", "Misclassification rate",
               "被退回或被人工更正分类(类别或处理组)的工单 ÷ 全部工单。",
               "Tickets returned or whose category or group an agent corrected ÷ all tickets.", "%"),
    Definition("avg_record_quality", "记录质量", "Record quality",
               "工单所含必填信息项的比例(记录质量得分)的平均值。",
               "The share of the required ticket fields a ticket carries (its record quality score), "
               "averaged.", "%"),
    Definition("self_help_resolution", "自助解决率", "Self-help resolution",
               "统计期内登记、获得知识推荐(知识库文章或服务目录的自助指南)且已解决或关闭的工单中，"
               "没有工程师公开回复即解决的工单数，及其占比(自助解决 ÷ 获得推荐且已解决)。",
               "Of the tickets registered in the period that got knowledge suggestions (knowledge-base "
               "articles or the catalog's self-help guides) and are resolved or closed: how many were "
               "resolved without a public reply by an engineer, and their share (resolved by self-help "
               "÷ suggested and resolved).", "%"),
    Definition("channels", "渠道构成", "Channel mix",
               "各渠道登记的工单数及占比。", "Tickets registered through each channel, and their share."),
    Definition("top_categories", "主要问询分类", "Top categories",
               "工单数最多的服务目录分类。", "The catalog categories with the most tickets."),
    Definition("reopened", "重开工单", "Reopened tickets",
               "解决后又被重新打开的工单数。", "Tickets reopened after they were solved."),
    Definition("repeat", "重复问询", "Repeat queries",
               "同一用户在 7 天内就同一事项再次提出的工单数。",
               "Tickets by the same requester about the same item within 7 days of an earlier one."),
    Definition("trend", "趋势", "Trend",
               "按日(统计期不超过 31 天)或按周(周一开始)的工单数与响应时限达成率。",
               "Tickets and response-limit attainment per day (periods up to 31 days) or per week "
               "(starting Monday)."),
)

BY_ID = {d.id: d for d in DEFINITIONS}
