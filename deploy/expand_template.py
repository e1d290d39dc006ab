"""Write the expansions of template.yaml that `make check-template` lints and scans.

    .venv-tools/bin/python deploy/expand_template.py template.yaml OUT_DIR

Two blind spots of the linters make the expansions necessary:

- cfn-lint validates a template that declares the AWS::Serverless transform against SAM's
  schemas only, without expanding it: a wrong runtime, timeout or IAM action in a function,
  or in a plain resource of the same template, passes unnoticed. The AWS::Lambda::Function,
  event source mapping, alias, API Gateway routes and permissions SAM generates are only
  checked in the translation, made here offline with aws-sam-translator (the library behind
  the transform).
- checkov evaluates conditions with the parameters' defaults and leaves out every resource
  whose condition is false, so the optional features (CDN, example adapter intake, alarm
  email, concurrency settings) are only scanned in a copy where they default to on.

Files written to OUT_DIR:
  cfn-defaults.json      the CloudFormation SAM produces with every default
  cfn-all-features.json  the same with every optional feature on

Runs in the tools virtualenv (.venv-tools), never in the application's: aws-sam-translator,
cfn-lint and checkov pin libraries the application pins differently.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml
from samtranslator.metrics.method_decorator import MetricsMethodWrapperSingleton
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform

# Parameter values that turn every optional resource and property on. Provisioned concurrency
# stands for both capacity options: the template's rule forbids it together with SnapStart.
ALL_FEATURES = {
    "AssetCdn": "true",
    "ExampleAdapterChannel": "mercadolibre",
    "AlarmEmail": "alarms@example.com",
    "ApiReservedConcurrency": 100,
    "ApiProvisionedConcurrency": 2,
}


class _NoManagedPolicies(ManagedPolicyLoader):
    """The template names no AWS managed policy (every role's policy is written out), so the
    translator never needs IAM's list of them; refusing keeps the translation offline."""

    def __init__(self) -> None:
        pass

    def load(self) -> dict[str, str]:
        raise RuntimeError("template.yaml must not reference AWS managed policies by name")


def with_defaults(template: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A copy of `template` whose parameters default to `values`."""
    changed = copy.deepcopy(template)
    for name, value in values.items():
        changed["Parameters"][name]["Default"] = value
    return changed


def translate(template: dict[str, Any]) -> dict[str, Any]:
    """The CloudFormation the AWS::Serverless transform makes of `template`."""
    template = copy.deepcopy(template)
    for resource in template.get("Resources", {}).values():
        # `sam build` then `sam package` replace the local CodeUri with the S3 object they
        # upload; the translator accepts only the latter.
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://sam-package-bucket/code.zip"
    # The translator builds ARNs with the session's region; any region gives the same shape.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    # Parameter values come from the defaults. passthrough_metadata keeps each function's
    # Metadata (its checkov skips) on the resources generated from it.
    translated = transform(template, {}, _NoManagedPolicies(), passthrough_metadata=True)
    # The translator counts what it did for CloudWatch and warns at exit about counts never
    # published; its offline publisher discards them.
    MetricsMethodWrapperSingleton.get_instance().publish()
    return translated


def load(path: str) -> dict[str, Any]:
    # cfn-lint's loader understands the short intrinsic tags (!Ref, !Sub, ...); the JSON round
    # trip turns its annotated node types into plain dicts, lists and strings.
    loaded: dict[str, Any] = json.loads(json.dumps(cfn_yaml.load(path)))
    return loaded


def main(source: str, out_dir: str) -> None:
    template = load(source)
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    outputs = {
        "cfn-defaults.json": translate(template),
        "cfn-all-features.json": translate(with_defaults(template, ALL_FEATURES)),
    }
    for name, document in outputs.items():
        (target / name).write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} TEMPLATE OUT_DIR")
    main(sys.argv[1], sys.argv[2])
