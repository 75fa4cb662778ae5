"""`desk-enricher templates check`: every template, rendered against sample tickets
of both platforms, prints no undefined and no blank field (901.3: a changed data
source must never leave a gap in a message).

Undefined fields fail anyway (StrictUndefined). Blank ones would pass silently, so
the check renders through an environment that wraps every `{{ ... }}` in a filter
that fails on "" or None, naming the expression and its line.
"""
from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from jinja2 import Undefined, nodes
from jinja2.exceptions import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from ..console import friendly
from ..errors import EnricherError
from . import config, templates
from .samples import contexts, samples

FILTER = "enricher_field"


class FieldProblem(TemplateError):
    def __init__(self, field: str, line: int, what: str):
        super().__init__(f"line {line}: {field} is {what}")
        self.field, self.line, self.what = field, line, what


def _field(value: Any, field: str, line: int) -> Any:
    if isinstance(value, Undefined):
        raise FieldProblem(field, line, "undefined")
    if value is None or (isinstance(value, str) and not value.strip()):
        raise FieldProblem(field, line, "blank")
    return value


class CheckingEnvironment(SandboxedEnvironment):
    """Every output expression of every template it loads (includes too) is checked."""

    def __init__(self, **kw: Any):
        super().__init__(**kw)
        self.filters[FILTER] = _field

    def _parse(self, source, name, filename):
        tree = super()._parse(source, name, filename)
        for output in tree.find_all(nodes.Output):
            output.nodes = [n if isinstance(n, nodes.TemplateData) else _wrapped(n) for n in output.nodes]
        return tree


def _wrapped(expr: nodes.Expr) -> nodes.Expr:
    args = [nodes.Const(describe(expr)), nodes.Const(expr.lineno)]
    return nodes.Filter(expr, FILTER, args, [], None, None, lineno=expr.lineno)


def describe(expr: nodes.Node) -> str:
    """The expression as a person wrote it, near enough to find it."""
    if isinstance(expr, nodes.Name):
        return expr.name
    if isinstance(expr, nodes.Getattr):
        return f"{describe(expr.node)}.{expr.attr}"
    if isinstance(expr, nodes.Getitem):
        return f"{describe(expr.node)}[{describe(expr.arg)}]"
    if isinstance(expr, nodes.Const):
        return repr(expr.value)
    if isinstance(expr, (nodes.Filter, nodes.Test)):
        return f"{describe(expr.node)} | {expr.name}"
    if isinstance(expr, nodes.Or):
        return f"{describe(expr.left)} or {describe(expr.right)}"
    if isinstance(expr, nodes.And):
        return f"{describe(expr.left)} and {describe(expr.right)}"
    if isinstance(expr, nodes.CondExpr):
        return f"{describe(expr.expr1)} if {describe(expr.test)} else …"
    if isinstance(expr, nodes.Call):
        return f"{describe(expr.node)}(…)"
    return type(expr).__name__.lower()


@dataclass(frozen=True)
class Failure:
    template: str
    message: str
    samples: tuple[str, ...]        # the sample tickets it fails on

    def line(self) -> str:
        return f"FAIL  {self.template}: {self.message}" + (f" [{', '.join(self.samples)}]" if self.samples else "")


def run(settings: Any, directory: str | None = None) -> tuple[list[str], list[Failure]]:
    """(templates checked, failures): one per template and problem, with its samples."""
    comm = config.of(settings)
    inline = (getattr(settings, "file", None) or {}).get("templates") or {}
    checker = templates.Templates(directory or comm.templates_dir, inline, env_class=CheckingEnvironment)
    found: dict[tuple[str, str], list[str]] = {}
    checked = set()
    for sample in samples(settings):
        for notice, audience, language, fields in contexts(sample, settings, comm):
            name = templates.template_name(notice, audience, language)
            checked.add(name)
            problem = _render(checker, notice, audience, language, fields)
            if problem and sample.name not in found.setdefault((name, problem), []):
                found[(name, problem)].append(sample.name)
    failures = [Failure(name, problem, tuple(names)) for (name, problem), names in found.items() if names]
    failures += _strays(directory or comm.templates_dir)
    return sorted(checked), sorted(failures, key=lambda f: (f.template, f.message))


def _strays(directory: str | None) -> list[Failure]:
    """Override files the plugin would never read: a typo in a name must not pass."""
    if not directory:
        return []
    known = set(templates.all_names())
    found = [p.relative_to(directory).as_posix() for p in Path(directory).rglob("*.j2")]
    return [Failure(name, "is not a template the plugin has (names are <language>/<notice>.<audience>.j2)", ())
            for name in sorted(found) if not Path(name).name.startswith("_") and name not in known]


def _render(checker: templates.Templates, notice: str, audience: str, language: str, fields: dict) -> str | None:
    try:
        title, body = _raw(checker, notice, audience, language, fields)
    except FieldProblem as exc:
        return str(exc)
    except EnricherError as exc:
        return exc.message
    except TemplateError as exc:
        line = _line(exc)
        near = _expressions(checker, templates.template_name(notice, audience, language), line)
        return f"line {line}{f' ({near})' if near else ''}: {exc.message}"
    if not title.strip() or not body.strip():
        return "renders an empty " + ("title" if not title.strip() else "body")
    return None


def _raw(checker: templates.Templates, notice: str, audience: str, language: str, fields: dict):
    """Render without turning template errors into SettingsError, so a FieldProblem
    keeps its field and line."""
    template = checker.template(templates.template_name(notice, audience, language))
    parts = []
    for part in templates.PARTS:
        source = checker.inline.get(notice, {}).get(part)
        if source is not None:
            parts.append(checker.env.from_string(source).render(**fields))
        elif part not in template.blocks:
            raise EnricherError(f"has no {{% block {part} %}}")
        else:
            try:
                parts.append("".join(template.blocks[part](template.new_context(dict(fields)))))
            except TemplateError:
                checker.env.handle_exception()   # raises it again, its traceback on template lines
    return parts[0], parts[1]


def _expressions(checker: templates.Templates, name: str, line: str) -> str:
    """The fields printed on a template's line, to name what an error is about."""
    try:
        source = checker.env.loader.get_source(checker.env, name)[0]
        tree = SandboxedEnvironment().parse(source)
    except TemplateError:
        return ""
    found = [describe(n) for out in tree.find_all(nodes.Output) for n in out.nodes
             if not isinstance(n, nodes.TemplateData) and str(n.lineno) == line]
    return ", ".join(found)


def _line(exc: BaseException) -> str:
    """The template line an error was raised on (Jinja rewrites the traceback to it)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")
              or f.filename == "<template>"]
    return str(frames[-1].lineno) if frames else "?"


@click.group("templates")
def templates_group():
    """Message templates: check them against sample tickets."""


@templates_group.command("check")
@click.option("--dir", "directory", type=click.Path(exists=True, file_okay=False),
              help="templates to check instead of communication.templates_dir (try an override first)")
@friendly
def check_command(directory):
    """Render every template against sample tickets of both platforms; fail on any
    undefined or blank field, naming template and field."""
    from ..settings import load_settings

    names, failures = run(load_settings(), directory)
    for failure in failures:
        click.echo(failure.line())
    bad = {f.template for f in failures if f.template in names}
    strays = {f.template for f in failures} - bad
    click.echo(f"{len(names) - len(bad)} of {len(names)} template(s) ok" + (f", {len(bad)} failed" if bad else "")
               + (f", {len(strays)} unknown file(s)" if strays else ""))
    sys.exit(1 if failures else 0)
