"""Message templates: Jinja2's sandbox (admins may edit them), StrictUndefined (a
missing field is an error, never a blank).

One file per notice, audience and language, `<language>/<notice>.<audience>.j2`,
holding a `title` and a `body` block. An admin overrides any of them by putting a
file of the same name in the directory `communication.templates_dir` names; the
older inline form (`templates: {major_event: {title: ..., body: ...}}`) still
overrides a notice's title or body in every audience and language.

Bodies are plain text: the adapters escape them for the ticket (HTML, wiki, ADF),
Apprise for mail and chat.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

from ..errors import SettingsError
from . import config

TEMPLATE_DIR = Path(__file__).parent / "templates"
PARTS = ("title", "body")


def template_name(notice: str, audience: str, language: str) -> str:
    return f"{language}/{notice}.{audience}.j2"


def all_names() -> list[str]:
    """Every template the shipped matrix has: notices x audiences x languages."""
    return [template_name(n, a, lang) for n, audiences in config.NOTICES.items()
            for a in audiences for lang in config.LANGUAGES]


def environment(directory: str | None, env_class: type = SandboxedEnvironment) -> SandboxedEnvironment:
    """The admin's directory first, the shipped templates behind it."""
    loaders = ([FileSystemLoader(directory)] if directory else []) + [FileSystemLoader(TEMPLATE_DIR)]
    return env_class(loader=ChoiceLoader(loaders), undefined=StrictUndefined, autoescape=False,
                     trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)


class Templates:
    """The templates one settings file gives: its directory and inline overrides."""

    def __init__(self, directory: str | None = None,
                 inline: Mapping[str, Mapping[str, str]] | None = None,
                 env_class: type = SandboxedEnvironment):
        self.env = environment(directory, env_class)
        self.inline = {n: dict(parts) for n, parts in (inline or {}).items()}

    def render(self, notice: str, audience: str, language: str, context: Mapping[str, Any]) -> tuple[str, str]:
        """(title, body) of one notice, filled in; SettingsError names the template."""
        name = template_name(notice, audience, language)
        template = self.template(name)
        out = []
        for part in PARTS:
            inline = self.inline.get(notice, {}).get(part) is not None
            where = f"{notice}.{part}" if inline else name
            try:
                if inline:
                    out.append(self._inline(notice, part).render(**context))
                elif part not in template.blocks:
                    raise SettingsError(f"template {name} has no {{% block {part} %}}", key="bad_template")
                else:
                    out.append("".join(template.blocks[part](template.new_context(dict(context)))))
            except TemplateError as exc:
                raise SettingsError(f"template {where}: {exc.message}", key="bad_template") from None
        return " ".join(_tidy(out[0]).split("\n")), _tidy(out[1])

    def template(self, name: str):
        try:
            return self.env.get_template(name)
        except TemplateNotFound:
            raise SettingsError(f"no template {name}", key="bad_template") from None
        except TemplateError as exc:
            raise SettingsError(f"template {name}: {exc.message}", key="bad_template") from None

    def _inline(self, notice: str, part: str):
        try:
            return self.env.from_string(self.inline[notice][part])
        except TemplateError as exc:
            raise SettingsError(f"template {notice}.{part}: {exc.message}", key="bad_template") from None

    def compile_all(self) -> None:
        """Every template parses (syntax errors stop start-up, named)."""
        for name in all_names():
            self.template(name)
        for notice, parts in self.inline.items():
            for part in parts:
                self._inline(notice, part)


def _tidy(text: str) -> str:
    """Strip each line's end and runs of blank lines a conditional left behind."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out)


def for_settings(settings: Any) -> Templates:
    """The Templates of these settings (cached: one environment per directory and overrides)."""
    comm = config.of(settings)
    inline = (getattr(settings, "file", None) or {}).get("templates") or {}
    frozen = tuple(sorted((n, tuple(sorted(p.items()))) for n, p in inline.items()))
    return _cached(comm.templates_dir, frozen)


@lru_cache(maxsize=16)
def _cached(directory: str | None, inline: tuple) -> Templates:
    return Templates(directory, {n: dict(parts) for n, parts in inline})


def notice(name: str, settings: Any) -> Templates:
    """Check a notice's templates at start-up: every template parses, and this notice
    fills in on a sample in the desk's language. Returns the Templates."""
    from .samples import sample_context

    templates = for_settings(settings)
    templates.compile_all()
    language = getattr(settings, "language", "zh-CN")
    for audience in config.NOTICES[name]:
        templates.render(name, audience, language, sample_context(name, language))
    return templates


def load(name: str, overrides: Mapping[str, str] | None = None) -> Templates:
    """A notice's templates with inline (title, body) overrides, checked on a sample."""
    from .samples import sample_context

    templates = Templates(None, {name: dict(overrides or {})})
    templates.compile_all()
    for audience in config.NOTICES[name]:
        templates.render(name, audience, "zh-CN", sample_context(name, "zh-CN"))
    return templates
