"""The shipped default model: built from the written corpus, reproducible, fresh, and used
only where it fits (the default catalog, no model of the desk's own)."""
from __future__ import annotations

import csv
from collections import Counter
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from plugin.classifiers import default_model as dm
from plugin.classifiers.catalog import ClassificationSettings, default_catalog, load_catalog
from plugin.classifiers.loader import model_source, uses_default_model
from plugin.classifiers.model import TrainedModel
from plugin.classifiers.model_cli import build_default_model
from plugin.classifiers.step import classify

from .conftest import make_ctx, make_ticket

SAMPLES = ["VPN 连不上，提示连接失败", "Laptop battery will not charge", "请问OA里怎么发起用印申请",
           "Invoice INV-2025-0318 charged twice", "董事会明天上午开会，需要会前测试", "求助"]


@pytest.fixture(scope="module")
def shipped() -> TrainedModel:
    return TrainedModel.load(dm.SHIPPED)


def test_the_corpus_is_marked_as_written_and_names_only_catalog_items():
    head = dm.CORPUS.read_text(encoding="utf-8").splitlines()[0]
    assert head.startswith("# Written for desk-enricher's default model")
    _, labels = dm.read_corpus()
    ids = {item.id for item in default_catalog()}
    assert set(labels) == ids | {dm.OTHER}
    rows = list(csv.DictReader(line for line in dm.CORPUS.open(encoding="utf-8")
                               if not line.startswith("#")))
    per = Counter((r["item"], r["lang"]) for r in rows)
    for item in ids:                        # many phrasings per service, in both languages
        assert per[item, "zh-CN"] >= 15 and per[item, "en"] >= 10, item


def test_the_shipped_model_was_built_from_this_corpus(shipped):
    assert shipped.metrics["corpus_sha256"] == dm.corpus_digest(), \
        "the corpus or the catalog changed: run `desk-enricher build-default-model`"
    assert dm.SHIPPED.stat().st_size < 3 * 2**20


def test_same_corpus_and_seed_give_the_same_predictions(tmp_path, shipped):
    out = tmp_path / "rebuilt.joblib"
    result = CliRunner().invoke(build_default_model, ["--out", str(out), "--seed", "0"])
    assert result.exit_code == 0, result.output
    assert "trained on" in result.output and "corpus sha256" in result.output
    again = TrainedModel.load(out)
    for text in SAMPLES:
        assert again.scores(text) == pytest.approx(shipped.scores(text), abs=1e-9)
    assert again.predict(SAMPLES) == shipped.predict(SAMPLES)


@pytest.mark.parametrize("title,body,item", [
    ("电脑蓝屏", "开机就蓝屏，一直自动重启", "desktop.os_fault"),
    ("VPN连不上", "在家连VPN一直提示连接失败", "desktop.software_fault"),
    ("申请开通CRM账号", "新同事下周入职销售部，需要CRM账号", "business.app_request"),
    ("Laptop screen cracked", "I dropped my laptop and the screen is broken", "desktop.hardware_repair"),
    ("How do I submit an expense claim?", "Where is the expense form in the OA system?", "business.usage"),
])
def test_typical_tickets_are_decided_on_day_one(shipped, title, body, item):
    found = classify(make_ticket(title, body), make_ctx(model=shipped))
    assert found.facts["category"] == item and found.fields["enrich_triage"] is False


def test_an_invoice_charged_twice_is_no_hardware_repair(shipped):
    found = classify(make_ticket("Invoice INV-2025-0318 charged twice", ""), make_ctx(model=shipped))
    assert found.fields["enrich_triage"] is True
    assert "none of the catalog" in found.note[0]


def _settings(**classification):
    return SimpleNamespace(classification=ClassificationSettings(**classification))


def test_the_default_model_serves_the_default_catalog_only(tmp_path):
    assert uses_default_model(_settings())
    assert model_source(_settings())() is dm.default_model()
    own = load_catalog([{"id": "x.y", "category": {"zh": "甲", "en": "A"},
                         "service": {"zh": "乙", "en": "B"}, "item": {"zh": "丙", "en": "C"},
                         "value_stream": "incident"}])
    assert not uses_default_model(_settings(catalog=own))
    assert model_source(_settings(catalog=own))() is None            # rules alone
    assert model_source(_settings(use_default_model=False))() is None
    assert not uses_default_model(_settings(model_path=str(tmp_path / "m.joblib")))
