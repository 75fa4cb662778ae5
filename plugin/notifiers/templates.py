"""Message templates: Jinja2's sandbox (admins may edit them), StrictUndefined (a
missing field is an error, never a blank), checked at start-up against a sample."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from ..errors import SettingsError
from ..models import Requester, Ticket

TEMPLATE_DIR = Path(__file__).parent / "templates"
ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)

SAMPLE = {"ticket": Ticket(platform="zammad", id="1", number="10001", title="样例 sample", body="",
                           requester=Requester(id="1", name="张三", email="z@example.com",
                                               organization="示例公司")),
          "category": "桌面IT运维管理/软件故障问题/一般软件故障", "why": "outage words: 宕机"}


def load(name: str, overrides: Mapping[str, str] | None = None) -> tuple[Any, Any]:
    """(title, body) templates of a notice, the admin's text if given, checked on a sample."""
    sources = {part: (overrides or {}).get(part) or (TEMPLATE_DIR / f"{name}.{part}.j2").read_text("utf-8")
               for part in ("title", "body")}
    compiled = {}
    for part, src in sources.items():
        try:
            compiled[part] = ENV.from_string(src)
            compiled[part].render(**SAMPLE)
        except TemplateError as exc:
            raise SettingsError(f"template {name}.{part}: {exc.message}", key="bad_template") from None
    return compiled["title"], compiled["body"]


def render(template: Any, **context: Any) -> str:
    try:
        return template.render(**context).strip()
    except TemplateError as exc:
        # Checked at start-up; a field missing at run time is still an error, not a blank.
        raise SettingsError(f"template could not be filled: {exc.message}", key="bad_template") from None
