"""The feedback page's words, in the requester's language (zh-CN, en)."""
from __future__ import annotations

TEXTS = {
    "zh-CN": {
        "title": "服务满意度",
        "ticket": "工单",
        "question": "您对这次服务满意吗？",
        "choices": {1: "满意", 2: "一般", 3: "不满意"},
        "comment": "意见或建议（选填）",
        "placeholder": "哪些地方做得好，哪些需要改进？",
        "submit": "提交评价",
        "before": "您此前的评价：{label}（{when}）。提交后将以新的评价为准。",
        "thanks_title": "感谢您的评价",
        "thanks": "您的评价「{label}」已记录。",
        "thanks_bad": "很抱歉这次服务没有让您满意，服务台会跟进您的意见。",
        "change": "如需修改，再次打开邮件中的任一链接即可。",
        "choose": "请选择一项评价。",
        "invalid_title": "链接无效",
        "invalid": "这个评价链接无效或不完整，没有记录任何评价。请从邮件中完整复制链接，或直接回复工单。",
        "expired_title": "链接已过期",
        "expired": "这个评价链接已过期（有效期 {days} 天），没有记录任何评价。如有意见，请直接回复工单。",
        "disabled_title": "评价未开启",
        "disabled": "本服务台没有开启满意度评价。",
    },
    "en": {
        "title": "How did we do?",
        "ticket": "Ticket",
        "question": "Were you satisfied with how your request was handled?",
        "choices": {1: "Satisfied", 2: "Neutral", 3: "Dissatisfied"},
        "comment": "Comment (optional)",
        "placeholder": "What went well, what should we improve?",
        "submit": "Send",
        "before": "Your earlier answer: {label} ({when}). Sending replaces it.",
        "thanks_title": "Thank you",
        "thanks": "Your answer \u201c{label}\u201d is recorded.",
        "thanks_bad": "We are sorry we did not do better; the service desk will follow up on your comment.",
        "change": "To change it, open any of the links in the e-mail again.",
        "choose": "Please choose one answer.",
        "invalid_title": "This link does not work",
        "invalid": "This survey link is not valid or not complete, and nothing was recorded. Copy the whole "
                   "link from the e-mail, or reply to the ticket.",
        "expired_title": "This link has expired",
        "expired": "This survey link has expired (links last {days} days), and nothing was recorded. "
                   "To tell us anything, reply to the ticket.",
        "disabled_title": "No survey here",
        "disabled": "This service desk does not run a satisfaction survey.",
    },
}
