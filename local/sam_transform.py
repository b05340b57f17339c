"""template.yaml as CloudFormation would see it after the SAM transform, for scanners that read
only plain CloudFormation (checkov, the IAM trace's comparison).

`python -m local.sam_transform OUT.json` writes the transformed template. SAM's translator wants
S3 locations for code and a region, as `sam deploy` would have by then: local `CodeUri` and
`ContentUri` folders become `s3://sitegate-build/<folder>` in a copy; nothing is uploaded, and
nothing reaches AWS (the managed-policy loader is never asked: the template names no managed
policy by name).
"""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path
from typing import Any

from local.template import TEMPLATE, load_template

REGION = "us-east-1"
_CODE_KEYS = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}


class _NoManagedPolicies:
    """SAM asks this for managed-policy ARNs by name; SiteGate's policies are all inline."""

    def load(self) -> dict[str, str]:
        return {}


def with_s3_code(template: dict[str, Any]) -> dict[str, Any]:
    """A copy of the template whose local code folders are S3 URIs, as after `sam package`."""
    packaged = copy.deepcopy(template)
    for resource in packaged["Resources"].values():
        key = _CODE_KEYS.get(resource["Type"])
        uri = (resource.get("Properties") or {}).get(key) if key else None
        if isinstance(uri, str) and not uri.startswith("s3://"):
            resource["Properties"][key] = f"s3://sitegate-build/{uri.strip('/')}.zip"
    return packaged


def transformed(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template after AWS::Serverless-2016-10-31, with its parameters' defaults."""
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    from samtranslator.translator.transform import transform  # the transform cfn-lint no longer carries

    return transform(with_s3_code(load_template(path)), {}, _NoManagedPolicies())  # type: ignore[arg-type]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m local.sam_transform OUT.json", file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(transformed(), indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
