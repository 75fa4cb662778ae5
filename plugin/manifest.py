"""manifest.json: the plugin's declaration, validated against a schema and against
the code (every platform, step and setting it names must exist) at start-up."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from .errors import SettingsError

MANIFEST_PATH = Path(__file__).resolve().parents[1] / "manifest.json"
FIELD_TYPES = ["text", "integer", "boolean", "select"]


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class Texts(_Strict):
    zh_cn = fields.String(required=True, data_key="zh-CN")
    en = fields.String(required=True)


class SignatureSchema(_Strict):
    header = fields.String(required=True)
    algorithm = fields.String(required=True, validate=validate.OneOf(["sha1", "sha256"]))


class PlatformSchema(_Strict):
    webhook_path = fields.String(required=True, validate=validate.Regexp(r"^/hooks/[a-z]+$"))
    events = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    signature = fields.Nested(SignatureSchema, required=True)
    delivery_header = fields.String(required=True)
    permissions = fields.List(fields.String(), required=True)
    settings = fields.List(fields.String(validate=validate.Regexp(r"^ENRICHER_[A-Z_]+$")),
                           required=True)


class FieldSchema(_Strict):
    name = fields.String(required=True, validate=validate.Regexp(r"^enrich_[a-z_]+$"))
    type = fields.String(required=True, validate=validate.OneOf(FIELD_TYPES))
    step = fields.String(required=True)
    label = fields.Nested(Texts, required=True)


class TagSchema(_Strict):
    # enrich:* and the KPI tags the design names (kpi-response-breached, kpi-sla-breached ...)
    name = fields.String(required=True, validate=validate.Regexp(r"^(enrich:[a-z0-9:*-]+|kpi-[a-z0-9-]+)$"))
    step = fields.String(required=True)
    meaning = fields.Nested(Texts, required=True)


class SettingSchema(_Strict):
    env = fields.String(required=True, validate=validate.Regexp(r"^ENRICHER_[A-Z_]+$"))
    secret = fields.Boolean(required=True)
    default = fields.String()


class ManifestSchema(_Strict):
    name = fields.String(required=True)
    version = fields.String(required=True, validate=validate.Regexp(r"^\d+\.\d+\.\d+$"))
    description = fields.Nested(Texts, required=True)
    platforms = fields.Dict(keys=fields.String(), values=fields.Nested(PlatformSchema), required=True)
    pipeline = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    fields_ = fields.List(fields.Nested(FieldSchema), required=True, data_key="fields")
    tags = fields.List(fields.Nested(TagSchema), required=True)
    settings = fields.List(fields.Nested(SettingSchema), required=True)


def load_manifest(path: Path | None = None) -> dict[str, Any]:
    path = path or MANIFEST_PATH
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SettingsError(f"cannot read manifest {path}: {exc}") from None
    try:
        ManifestSchema().load(raw)
    except ValidationError as exc:
        raise SettingsError(f"manifest {path} is invalid", details=exc.messages) from None
    problems = consistency_problems(raw)
    if problems:
        raise SettingsError(f"manifest {path} does not match the code: " + "; ".join(problems))
    return raw


def consistency_problems(manifest: dict[str, Any]) -> list[str]:
    """Names in the manifest must be names in the code, and the other way round."""
    from .hooks import ADAPTERS
    from .settings import known_env_names
    from .steps import STEPS

    problems = []
    for name, spec in manifest["platforms"].items():
        if name not in ADAPTERS:
            problems.append(f"platform '{name}' has no adapter")
        elif spec["webhook_path"] != f"/hooks/{name}":
            problems.append(f"platform '{name}' webhook_path must be /hooks/{name}")
    problems += [f"platform adapter '{n}' is not declared" for n in ADAPTERS
                 if n not in manifest["platforms"]]
    steps = set(manifest["pipeline"]) | {f["step"] for f in manifest["fields"]}
    problems += [f"step '{s}' does not exist" for s in sorted(steps) if s not in STEPS]
    env = set(known_env_names())
    declared = {s["env"] for s in manifest["settings"]}
    problems += [f"setting {s} is not read by the code" for s in sorted(declared - env)]
    problems += [f"setting {s} is read but not declared" for s in sorted(env - declared)]
    return problems


def field_names(manifest: dict[str, Any]) -> list[str]:
    return [f["name"] for f in manifest["fields"]]
