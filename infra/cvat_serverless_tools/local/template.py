"""template.yaml -> the CloudFormation resources the embedded runtime creates.

The SAM template is transformed with aws-sam-translator, exactly as CloudFormation's
AWS::Serverless transform would, after a small "package" step that `sam package` would do:
local CodeUri/ContentUri paths become placeholder S3 URIs (remembered, so handlers load from
the source tree) and DefinitionUri files are inlined.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CODE_BUCKET = "cvat-serverless-local-code"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


def find_project_root(start: Path | None = None) -> Path:
    """The folder holding template.yaml: CVAT_SERVERLESS_ROOT, else upwards from here / the cwd."""
    env = os.environ.get("CVAT_SERVERLESS_ROOT")
    if env:
        return Path(env).resolve()
    candidates = [start or Path.cwd(), Path(__file__).resolve()]
    for candidate in candidates:
        for folder in [candidate, *candidate.parents]:
            if (folder / "template.yaml").is_file() and (folder / "functions").is_dir():
                return folder
    raise FileNotFoundError(
        "template.yaml not found: run from the cvat-serverless checkout or set CVAT_SERVERLESS_ROOT"
    )


@dataclass
class Template:
    """The translated (plain CloudFormation) template plus what the package step replaced."""

    root: Path
    stack_name: str
    resources: dict[str, dict[str, Any]]
    parameters: dict[str, Any]
    outputs: dict[str, Any]
    conditions: dict[str, Any]
    code_paths: dict[str, Path] = field(default_factory=dict)  # placeholder S3 key -> local folder
    sam: dict[str, Any] = field(default_factory=dict)  # the template as written

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v.get("Type") in types}

    def parameter_values(self, overrides: dict[str, str] | None = None) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, spec in self.parameters.items():
            value = (overrides or {}).get(name, spec.get("Default"))
            if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
                value = [v.strip() for v in value.split(",")]
            values[name] = value
        return values


class _NoManagedPolicies:
    """IAM is not called: the embedded runtime does not enforce IAM anyway."""

    def load(self) -> dict[str, str]:
        return {}


def _package(sam: dict[str, Any], root: Path) -> dict[str, Path]:
    code_paths: dict[str, Path] = {}
    globals_fn = sam.get("Globals", {}).get("Function", {})
    for logical_id, resource in sam.get("Resources", {}).items():
        props = resource.setdefault("Properties", {})
        rtype = resource.get("Type")
        if rtype == "AWS::Serverless::Function":
            uri_key = "CodeUri"
            if uri_key not in props and uri_key in globals_fn:
                props[uri_key] = globals_fn[uri_key]
        elif rtype == "AWS::Serverless::LayerVersion":
            uri_key = "ContentUri"
        elif rtype == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str):
            path = root / props.pop("DefinitionUri")
            props["Definition"] = json.loads(path.read_text())
            continue
        else:
            continue
        local = props.get(uri_key)
        if isinstance(local, str) and not local.startswith("s3://"):
            key = local.strip("/").replace("/", "-") or logical_id
            code_paths[key] = (root / local).resolve()
            props[uri_key] = f"s3://{CODE_BUCKET}/{key}"
    return code_paths


def load_template(root: Path | None = None, stack_name: str = "cvat-local") -> Template:
    """Read and SAM-transform template.yaml (offline: no AWS calls)."""
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    root = root or find_project_root()
    sam = yaml_parse((root / "template.yaml").read_text())
    packaged = copy.deepcopy(sam)
    code_paths = _package(packaged, root)
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    pseudo = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID, "AWS::StackName": stack_name}
    translated = transform(packaged, pseudo, _NoManagedPolicies())
    return Template(
        root=root,
        stack_name=stack_name,
        resources=translated.get("Resources", {}),
        parameters=translated.get("Parameters", {}),
        outputs=translated.get("Outputs", {}),
        conditions=translated.get("Conditions", {}),
        code_paths=code_paths,
        sam=sam,
    )
