"""Message templates: one per notice, audience and language; admins override them from
a directory; `desk-enricher templates check` passes on the shipped ones and fails,
naming template and field, on an undefined or blank one."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import plugin.notifiers.templates
from plugin.cli import check_notices, cli
from plugin.errors import SettingsError
from plugin.hooks.markup import to_html, to_wiki
from plugin.models import Requester, Ticket
from plugin.notifiers import config, routing, samples, templates
from tests.conftest import JIRA_FIXTURES, ZAMMAD_FIXTURES


def settings_with(make_settings, tmp_path, **section):
    path = tmp_path / "settings.yaml"
    path.write_text(json.dumps({"communication": section}))
    return make_settings(ENRICHER_CONFIG=str(path))


def write(root, name, body):
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return root


def test_every_notice_audience_and_language_has_a_shipped_template():
    names = templates.all_names()
    assert len(names) == 2 * sum(len(a) for a in config.NOTICES.values())
    assert all((templates.TEMPLATE_DIR / n).is_file() for n in names)


def test_the_sample_payloads_are_the_shared_fixtures():
    for path in samples.PAYLOADS.glob("*.yaml"):
        platform, name = path.stem.split("__", 1)
        shared = (ZAMMAD_FIXTURES if platform == "zammad" else JIRA_FIXTURES) / f"{name}.json"
        assert yaml.safe_load(path.read_text("utf-8")) == json.loads(shared.read_text("utf-8")), path.name


def run_check(tmp_path, *args, **env):
    base = {"ENRICHER_DATA_DIR": str(tmp_path / "data"), "ENRICHER_LOG_LEVEL": "ERROR"}
    return CliRunner().invoke(cli, ["templates", "check", *args], env={**base, **env})


def test_templates_check_passes_on_the_shipped_templates(tmp_path):
    result = run_check(tmp_path)
    assert result.exit_code == 0, result.output
    # Every notice, every audience it has, both languages: 21 templates a language.
    assert result.output.strip() == "42 of 42 template(s) ok"
    shipped = Path(plugin.notifiers.templates.__file__).parent / "templates"
    assert len([p for p in shipped.glob("*/*.j2") if not p.name.startswith("_")]) == 42


def test_templates_check_names_template_and_field_of_a_blank_or_undefined_one(tmp_path):
    broken = tmp_path / "overrides"
    # A Jira portal user has no e-mail in the webhook: printed bare, it would be a gap.
    write(broken, "zh-CN/ack.requester.j2",
          "{% block title %}已受理 #{{ ticket.number }}{% endblock %}\n"
          "{% block body %}\n您好\n联系邮箱：{{ requester.email }}\n{% endblock %}\n")
    write(broken, "en/status.requester.j2",
          "{% block title %}#{{ ticket.number }}{% endblock %}\n"
          "{% block body %}\nNow {{ status.new }}.\nOwner: {{ ticket.owner_name | upper }}\n{% endblock %}\n")
    write(broken, "en/surveys.requester.j2", "{% block title %}x{% endblock %}{% block body %}y{% endblock %}")
    result = run_check(tmp_path, "--dir", str(broken))
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert ("FAIL  zh-CN/ack.requester.j2: line 4: requester.email is blank "
            "[jira issue_created_jsm, jira issue_updated_status]") in lines
    [undefined] = [line for line in lines if line.startswith("FAIL  en/status.requester.j2")]
    assert "line 4 (ticket.owner_name | upper)" in undefined and "no attribute 'owner_name'" in undefined
    assert any(line.startswith("FAIL  en/surveys.requester.j2: is not a template") for line in lines)
    assert lines[-1] == "40 of 42 template(s) ok, 2 failed, 1 unknown file(s)"


def test_an_override_directory_replaces_one_template_and_keeps_the_others(make_settings, tmp_path):
    overrides = write(tmp_path / "t", "zh-CN/ack.requester.j2",
                      "{% block title %}收到 #{{ ticket.number }}{% endblock %}"
                      "{% block body %}{{ desk.name }}已收到。{% endblock %}")
    settings = settings_with(make_settings, tmp_path, templates_dir=str(overrides), desk_name="运维中心")
    t = templates.for_settings(settings)
    context = samples.sample_context("ack", "zh-CN", settings)
    assert t.render("ack", "requester", "zh-CN", context) == ("收到 #10001", "运维中心已收到。")
    title, _ = t.render("ack", "requester", "en", samples.sample_context("ack", "en", settings))
    assert title == "Received: #10001 样例 sample"


def test_a_broken_override_stops_start_up_naming_the_file(make_settings, tmp_path):
    overrides = write(tmp_path / "t", "en/survey.requester.j2", "{% block title %}{% if %}{% endblock %}")
    settings = settings_with(make_settings, tmp_path, templates_dir=str(overrides))
    with pytest.raises(SettingsError) as err:
        check_notices(settings)
    assert "en/survey.requester.j2" in err.value.message


def test_a_missing_templates_dir_is_refused_when_the_settings_load(make_settings, tmp_path):
    with pytest.raises(SettingsError) as err:
        settings_with(make_settings, tmp_path, templates_dir=str(tmp_path / "nope"))
    assert "communication.templates_dir" in err.value.message and "is not a directory" in err.value.message


def ticket(title, body="", **requester):
    return Ticket(platform="zammad", id="1", number="1", title=title, body=body,
                  requester=Requester(id="7", **requester))


@pytest.mark.parametrize("title,body,preferences,expected", [
    ("打印机卡纸", "三楼打印机", {}, "zh-CN"),                  # written in Chinese
    ("Printer jammed", "third floor", {}, "en"),               # written in English
    ("VPN 809", "连不上", {}, "zh-CN"),                          # mixed: Chinese wins
    ("12345", "", {}, "zh-CN"),                                 # nothing to tell: the desk's language
    ("打印机卡纸", "", {"li@x.example": {"language": "en"}}, "en"),   # stated preference first
])
def test_the_requesters_language(title, body, preferences, expected):
    comm = config.Communication(preferences=preferences)
    assert routing.language_for(ticket(title, body, email="li@x.example"), comm, None) == expected


def test_ticket_text_is_escaped_by_the_adapters_not_the_templates(make_settings):
    """Templates make plain text; the Zammad adapter escapes it as HTML, the Jira one as wiki."""
    settings = make_settings()
    t = templates.for_settings(settings)
    context = samples.sample_context("ack", "en", settings)
    context["ticket"] = {**context["ticket"], "title": "<script>alert(1)</script> {code}x{code} [link|http://e]"}
    _, body = t.render("ack", "requester", "en", context)
    assert "<script>alert(1)</script>" in body
    assert "&lt;script&gt;" in to_html(body) and "<script>" not in to_html(body)
    assert r"\{code\}" in to_wiki(body) and r"\[link\|http://e\]" in to_wiki(body)
