"""Settings: secrets and servers from `ENRICHER_*` environment variables, the desk's
catalog, rules and pipeline from the optional file named by `ENRICHER_CONFIG`.

Both are validated with marshmallow; a bad value stops start-up with one readable
line per problem. Secrets are held but never printed (`Settings.__repr__` masks them).
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from .errors import SettingsError
from .kpi.config import KpiSchema
from .notifiers.config import CommunicationSchema
from .tracking.config import TrackingSchema
from .verify.config import VerificationSchema

# Apprise URLs (they hold tokens) of the communication step's channels and audiences.
NOTIFY_CHANNELS = ("email", "feishu", "lark", "dingtalk", "wecom", "slack", "staff", "manager", "stakeholders")
SECRET_NAMES = ("zammad_token", "zammad_webhook_secret", "jira_token",
                "jira_webhook_secret", "jira_automation_secret", "notify_major_event", "admin_token",
                "survey_secret", *(f"notify_{n}" for n in NOTIFY_CHANNELS))


def _url(**kw):
    return fields.Url(require_tld=False, schemes={"http", "https"}, **kw)


MIN_SECRET_CHARS = 8


def _webhook_secret(value: str) -> None:
    # A secret of spaces or a few characters can be guessed: it would sign anything.
    if len("".join(value.split())) < MIN_SECRET_CHARS:
        raise ValidationError(f"must have at least {MIN_SECRET_CHARS} characters that are not spaces")


def _secret(**kw):
    return fields.String(load_default=None, validate=_webhook_secret, **kw)


class EnvSchema(Schema):
    """`ENRICHER_<NAME>` variables, lower-cased without the prefix."""

    class Meta:
        unknown = EXCLUDE

    data_dir = fields.String(load_default="data")
    # shadow: every step runs and is recorded, nothing is written to a platform or sent.
    mode = fields.String(load_default="live", validate=validate.OneOf(["live", "shadow"]))
    config = fields.String(load_default=None)
    queue_url = fields.String(load_default=None, validate=validate.Regexp(
        r"^(sqlite|redis|rediss|memory)://", error="must start with sqlite://, redis:// or memory://"))
    # Several desks (or test runs) can share one Redis: each queue has its own name.
    queue_name = fields.String(load_default="desk-enricher", validate=validate.Regexp(
        r"^[A-Za-z0-9_.-]{1,64}$", error="letters, digits, '.', '_' and '-' only"))
    database_url = fields.String(load_default=None, validate=validate.Regexp(
        r"^(sqlite|postgresql)(\+\w+)?://", error="must start with sqlite:// or postgresql://"))
    public_url = _url(load_default=None)
    zammad_url = _url(load_default=None)
    zammad_token = fields.String(load_default=None)
    zammad_webhook_secret = _secret()
    jira_url = _url(load_default=None)
    jira_user = fields.String(load_default=None)
    jira_token = fields.String(load_default=None)
    jira_flavor = fields.String(load_default="cloud", validate=validate.OneOf(["cloud", "dc"]))
    jira_webhook_secret = _secret()
    jira_automation_header = fields.String(load_default="X-Enricher-Token")
    jira_automation_secret = _secret()
    max_body_bytes = fields.Integer(load_default=1_048_576, validate=validate.Range(min=1024))
    max_attempts = fields.Integer(load_default=8, validate=validate.Range(min=1, max=50))
    retry_base_seconds = fields.Float(load_default=2.0, validate=validate.Range(min=0))
    retry_max_seconds = fields.Float(load_default=300.0, validate=validate.Range(min=0))
    http_timeout = fields.Float(load_default=10.0, validate=validate.Range(min=0.1))
    http_retries = fields.Integer(load_default=2, validate=validate.Range(min=0, max=10))
    reconcile_seconds = fields.Integer(load_default=300, validate=validate.Range(min=0))
    # A delivery spends most of its ~200 ms waiting on REST calls: threads are cheap.
    workers = fields.Integer(load_default=8, validate=validate.Range(min=1, max=64))
    notify_major_event = fields.String(load_default=None)   # Apprise URLs, comma-separated
    # ENRICHER_NOTIFY_EMAIL is mailto(s)://... without `to`: each message names its recipient.
    notify_email = fields.String(load_default=None)
    notify_feishu = fields.String(load_default=None)
    notify_lark = fields.String(load_default=None)
    notify_dingtalk = fields.String(load_default=None)
    notify_wecom = fields.String(load_default=None)
    notify_slack = fields.String(load_default=None)
    notify_staff = fields.String(load_default=None)          # the desk's own chat (staff notices)
    notify_manager = fields.String(load_default=None)        # the desk manager (不满意 alerts)
    notify_stakeholders = fields.String(load_default=None)   # stakeholders and watchers
    survey_secret = _secret()        # signs the satisfaction links (itsdangerous)
    # Days stored webhook bodies and ticket text are kept once finished; 0 keeps them forever.
    retention_days = fields.Integer(load_default=90, validate=validate.Range(min=0))
    # `desk-enricher backfill`: requests a second to the platform across its threads (0: no
    # limit). Zammad has no REST rate limit of its own; Jira's 429 Retry-After is honoured too.
    backfill_rate = fields.Float(load_default=20.0, validate=validate.Range(min=0))
    # Opens /reports (the desk's review); unset, the page does not exist.
    admin_token = _secret()
    log_level = fields.String(load_default="INFO", validate=validate.OneOf(
        ["DEBUG", "INFO", "WARNING", "ERROR"]))


class RecordQualitySchema(Schema):
    class Meta:
        unknown = RAISE

    required = fields.List(fields.String(), load_default=lambda: [
        "title", "body", "channel", "requester_name", "requester_email",
        "requester_organization", "requester_department"])
    threshold = fields.Integer(load_default=80, validate=validate.Range(min=0, max=100))


class PipelineSchema(Schema):
    class Meta:
        unknown = RAISE

    steps = fields.List(fields.String(), load_default=None)


class FileSchema(Schema):
    """The settings file. Unknown top-level keys are an error: a typo must not pass."""

    class Meta:
        unknown = RAISE

    # Defaults go through the nested schema, so an absent section gets its defaults.
    pipeline = fields.Nested(PipelineSchema, load_default=lambda: PipelineSchema().load({}))
    record_quality = fields.Nested(RecordQualitySchema,
                                   load_default=lambda: RecordQualitySchema().load({}))
    catalog = fields.List(fields.Dict(), load_default=None)
    classification = fields.Dict(load_default=dict)
    language = fields.String(load_default="zh-CN", validate=validate.OneOf(["zh-CN", "en"]))
    calendar = fields.Dict(load_default=dict)   # validated by plugin.workcal.from_settings
    kpi = fields.Nested(KpiSchema, load_default=lambda: KpiSchema().load({}))
    templates = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(),
                                                                     values=fields.String()),
                            load_default=dict)
    communication = fields.Nested(CommunicationSchema, load_default=lambda: CommunicationSchema().load({}))
    verification = fields.Nested(VerificationSchema, load_default=lambda: VerificationSchema().load({}))
    tracking = fields.Nested(TrackingSchema, load_default=lambda: TrackingSchema().load({}))


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    queue_url: str
    database_url: str
    env: Mapping[str, Any]
    file: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)   # test/CLI overrides
    classification: Any = None                               # ClassificationSettings, validated
    calendar: Any = None                                     # workcal.Calendar, validated

    def __getattr__(self, name: str) -> Any:
        # Flat access to env values: settings.zammad_url, settings.max_attempts ...
        env = object.__getattribute__(self, "env")
        extra = object.__getattribute__(self, "extra")
        if name in extra:
            return extra[name]
        if name in env:
            return env[name]
        raise AttributeError(name)

    def __repr__(self) -> str:
        shown = {k: ("***" if k in SECRET_NAMES and v else mask_url(v) if k in URL_NAMES else v)
                 for k, v in self.env.items()}
        return f"Settings({shown})"

    @property
    def record_quality(self) -> Mapping[str, Any]:
        return self.file["record_quality"]

    @property
    def language(self) -> str:
        return self.file.get("language", "zh-CN")

    @property
    def major_event_window_minutes(self) -> int:
        return self.classification.major_event_window_minutes

    def platform_configured(self, platform: str) -> bool:
        return bool(self.env.get(f"{platform}_url"))

    def secret_values(self) -> list[str]:
        """What log lines must never show: secrets, and passwords inside server URLs."""
        passwords = [p for k in URL_NAMES for p in url_passwords(getattr(self, k))]
        return [v for k, v in self.env.items() if k in SECRET_NAMES and v] + passwords


URL_NAMES = ("database_url", "queue_url")   # may carry a password: user:password@host
_URL_PASSWORD = re.compile(r"(\w[\w+.-]*://[^:/@\s]*:)[^@\s]*@")


def mask_url(text: str | None) -> str | None:
    """`postgresql://user:***@host/db`: any URL password in `text` masked."""
    return _URL_PASSWORD.sub(r"\1***@", text) if text else text


def url_passwords(url: str | None) -> list[str]:
    """The password in a server URL as written and as meant (`p%40ss`, `p@ss`)."""
    try:
        written = urlsplit(url).password if url else None
    except ValueError:       # not a URL; the schema reports that
        return []
    return sorted({written, unquote(written)}) if written else []


def _env_values(environ: Mapping[str, str]) -> dict[str, str]:
    prefix = "ENRICHER_"
    return {k[len(prefix):].lower(): v for k, v in environ.items()
            if k.startswith(prefix) and v != ""}


def _errors_text(errors: Any, prefix: str = "") -> str:
    lines = []
    for key, value in (errors.items() if isinstance(errors, dict) else [("", errors)]):
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            lines.append(_errors_text(value, f"{name}."))
        else:
            msgs = value if isinstance(value, list) else [value]
            lines.append(f"{name}: {'; '.join(str(m) for m in msgs)}")
    return "\n".join(lines)


def read_settings_file(path: str | os.PathLike) -> dict[str, Any]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"cannot read settings file {p}: {exc.strerror}") from None
    try:
        data = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        where = getattr(exc, "problem_mark", None) or getattr(exc, "lineno", "")
        raise SettingsError(f"settings file {p} is not valid {'JSON' if p.suffix == '.json' else 'YAML'}"
                            f" (near {where}): {getattr(exc, 'problem', None) or exc.msg}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"settings file {p} must hold a mapping at the top level")
    return data


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build validated settings from the environment (default: os.environ)."""
    raw_env = _env_values(os.environ if environ is None else environ)
    try:
        env = EnvSchema().load(raw_env)
    except ValidationError as exc:
        named = {f"ENRICHER_{k.upper()}": v for k, v in exc.messages.items()}
        raise SettingsError("invalid environment settings:\n" + _errors_text(named)) from None
    raw_file = read_settings_file(env["config"]) if env.get("config") else {}
    try:
        file = FileSchema().load(raw_file)
    except ValidationError as exc:
        raise SettingsError(f"invalid settings file {env['config']}:\n"
                            + _errors_text(exc.messages)) from None
    classification = _classification(file)
    from .workcal import from_settings as load_calendar
    calendar = load_calendar(file.get("calendar"))
    data_dir = Path(env["data_dir"]).resolve()
    queue_url = env["queue_url"] or f"sqlite:///{data_dir / 'queue.db'}"
    database_url = env["database_url"] or f"sqlite:///{data_dir / 'ledger.db'}"
    return Settings(data_dir=data_dir, queue_url=queue_url, database_url=database_url,
                    env=env, file=file, extra=overrides, classification=classification,
                    calendar=calendar)


def _classification(file: Mapping[str, Any]):
    """The `classification:` section, with the file's top-level `catalog:` and `language:`."""
    from .classifiers.catalog import load_settings as load_classification

    section = dict(file.get("classification") or {})
    if file.get("catalog") is not None:
        section.setdefault("catalog", file["catalog"])
    section.setdefault("language", file.get("language", "zh-CN"))
    return load_classification(section)


def known_env_names() -> list[str]:
    return sorted(f"ENRICHER_{name.upper()}" for name in EnvSchema().fields)


__all__ = ["Settings", "known_env_names", "load_settings", "read_settings_file"]
