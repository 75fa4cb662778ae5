"""Structured JSON logs: one line per event, ids as fields, secrets masked."""
from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


# Shorter secrets are masked only where they stand alone: replacing every "pw" inside
# other words would garble the log and point at the secret all the same.
_WHOLE_WORD_BELOW = 4


class JsonFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        # As written into a JSON line too: a quote or backslash in a secret is escaped there.
        forms = {form for s in secrets if s for form in (s, json.dumps(s, ensure_ascii=False)[1:-1])}
        # Longest first, so a secret that contains another is masked whole.
        self.secrets = sorted(forms, key=len, reverse=True)
        self._short = [re.compile(rf"(?<![\w]){re.escape(s)}(?![\w])")
                       for s in self.secrets if len(s) < _WHOLE_WORD_BELOW]

    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
               "logger": record.name, "event": record.getMessage()}
        out.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return self.mask(json.dumps(out, ensure_ascii=False, default=str))

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            if len(secret) >= _WHOLE_WORD_BELOW:
                text = text.replace(secret, "***")
        for pattern in self._short:
            text = pattern.sub("***", text)
        return text


def setup_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("huey", "werkzeug", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
