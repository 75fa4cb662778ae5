"""Channels (email, Feishu/Lark, DingTalk, WeCom, Slack ...) through Apprise.

Who hears of what is configured by Apprise URLs in environment variables
(ENRICHER_NOTIFY_*: they hold tokens, so never in the settings file). Messages are
outbox intents, sent once by the dispatcher (plugin.notifiers.dispatcher).
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import apprise

from ..errors import SettingsError


def split_urls(value: str | None) -> list[str]:
    return [u.strip() for u in (value or "").replace("\n", ",").split(",") if u.strip()]


def build(urls: list[str], label: str) -> apprise.Apprise | None:
    """An Apprise object; bad URLs fail here, at start-up, named without their secrets."""
    if not urls:
        return None
    target = apprise.Apprise()
    for i, url in enumerate(urls, 1):
        if not target.add(url):
            scheme = url.split("://", 1)[0] if "://" in url else "?"
            raise SettingsError(f"{label}: URL #{i} ({scheme}://…) is not a valid Apprise URL",
                                key="bad_channel")
    return target


MAIL_SCHEMES = ("mailto", "mailtos")
_ADDRESS = re.compile(r"^[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"']+$")


def addressed(urls: list[str], to: str, reply_to: str | None, label: str) -> list[apprise.Apprise]:
    """One message's targets: the mail URLs of the setting (mailto(s)://… without `to`)
    sent to this recipient, with the desk's mailbox as Reply-To so an answer lands in
    the ticket; any other URL as it is. Built per message, never stored or logged."""
    if not _ADDRESS.match(to or "") or (reply_to and not _ADDRESS.match(reply_to)):
        raise SettingsError(f"{label}: not a usable e-mail address for this message", key="bad_address")
    out = []
    for url in urls:
        if url.split("://", 1)[0].lower() in MAIL_SCHEMES:
            url = _with_query(url, to=to, reply=reply_to or "")
        out.append(build([url], label))
    return out


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, v) for k, v in params.items() if v]
    return urlunsplit(parts._replace(query=urlencode(query)))
