"""The Lambda deployment package (deploy/package.py), built for this machine and imported in a
clean virtual environment: no site-packages but the package's own, as on Lambda.

Built once per module (pip install --target from pip's cache: ~10 s). The arm64 build that SAM
runs differs only in the wheels' platform (`make package`).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.adapters.aws.provisioning import ensure_catalog_table
from deploy import package
from tests.aws.apigw_events import ACME, http_event
from tests.conftest import AwsEndpoint

ROOT = Path(__file__).parents[2]
TABLE = "package-tests"

# Development tools and the embedded server's dependencies: none may ship.
NEVER_SHIPPED = [
    "pytest",
    "moto",
    "mypy",
    "ruff",
    "hypothesis",
    "uvicorn",
    "typer",
    "httpx",
    "standardwebhooks",
    "jwt",
    "cryptography",
]

# Modules the functions must not load: the embedded deployment and what only it needs.
OFF_THE_LAMBDA_PATH = [
    "sqlite3",
    "catalog.adapters.embedded.sqlite_store",
    "catalog.adapters.embedded.relay",
    "catalog.adapters.embedded.local_assets",
    "catalog.adapters.local_tokens",
    "httpx",
    "jwt",
    "uvicorn",
    "typer",
]

# Runs inside the clean environment: imports the handlers, answers the events it is given
# and reports what it loaded from where.
INVOKE = """
import json, sys

events = json.load(sys.stdin)
from catalog.entrypoints import lambda_api, lambda_reevaluate, lambda_relay

class Context:
    function_name = "catalog-api"
    aws_request_id = "package-test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:catalog-api"

    def get_remaining_time_in_millis(self):
        return 800_000

answers = [lambda_api.handler(event, Context()) for event in events]
relayed = lambda_relay.handler({"Records": []}, Context())
# A type of no product: the requirements read and one empty page, through the packaged boto3.
continuation = {"continuation": {"merchant_id": "acme", "type_key": "apparel"}}
reevaluated = lambda_reevaluate.handler(continuation, Context())
files = [getattr(m, "__file__", None) for m in list(sys.modules.values())]
print(json.dumps({
    "answers": [{"status": a["statusCode"], "body": a.get("body", "")[:200]} for a in answers],
    "relayed": relayed,
    "reevaluated": reevaluated,
    "modules": sorted(sys.modules),
    "files": sorted(f for f in files if f),
}))
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> package.Built:
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    target = tmp_path_factory.mktemp("lambda") / "package"
    return package.build(target, package.Target(platforms=(), python_version=running))


@pytest.fixture(scope="module")
def clean_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An interpreter with nothing installed: the standard library only, as on Lambda."""
    home = tmp_path_factory.mktemp("clean-venv")
    venv.EnvBuilder(with_pip=False).create(home)
    return home / "bin" / "python"


@pytest.fixture
def table(aws: AwsEndpoint) -> Iterator[str]:
    ensure_catalog_table(aws.client("dynamodb"), TABLE)
    yield TABLE


def run_in_package(
    python: Path, built: package.Built, aws: AwsEndpoint, events: list[dict[str, Any]]
) -> dict[str, Any]:
    env = {
        # Only what Lambda sets, plus the function's configuration: no PYTHONPATH but the
        # package, no virtualenv, nothing from this test process.
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(built.path),
        "PYTHONNOUSERSITE": "1",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": aws.url,
        "CATALOG_BACKEND": "aws",
        "CATALOG_AUTH": "apigw",
        "CATALOG_CURSOR_SECRET": "package-tests-cursor-secret-0123456789abcdef",
        "CATALOG_TABLE_NAME": TABLE,
        "CATALOG_EVENT_BUS_NAME": "package-tests",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        [str(python), "-c", INVOKE],
        input=json.dumps(events),
        env=env,
        cwd=built.path.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


PRICE_IN_DINARS = {"amount": 12500, "currency": "KWD"}


def test_the_handlers_answer_from_the_package_alone(
    built: package.Built, clean_python: Path, aws: AwsEndpoint, table: str
) -> None:
    result = run_in_package(
        clean_python,
        built,
        aws,
        [
            http_event("GET", "/health", claims=None),
            # DynamoDB through the packaged boto3: an unknown product is a 404 problem.
            http_event(
                "GET", "/v1/merchants/acme/products/01JD0000000000000000000000", claims=ACME
            ),
            # The offline docs' assets are in the package (fastapi-offline's static folder).
            http_event("GET", "/docs/static/swagger-ui-bundle.js", claims=None),
            # A price is checked against the ISO 4217 table, package data of catalog.domain:
            # without it in the package this register would be a 500.
            http_event(
                "POST",
                "/v1/merchants/acme/products",
                claims=ACME,
                headers={"content-type": "application/json"},
                body=json.dumps({"sku": "KW-1", "name": "Lamp", "price": PRICE_IN_DINARS}),
            ),
        ],
    )

    statuses = [answer["status"] for answer in result["answers"]]
    assert statuses == [200, 404, 200, 201], result["answers"]
    assert json.loads(result["answers"][0]["body"]) == {"status": "ok"}
    assert result["relayed"] == {"batchItemFailures": []}
    assert result["reevaluated"] == {"visited": 0, "changed": 0, "continued": False}

    # Everything imported came from the package or the standard library.
    stdlib = Path(sys.base_prefix).resolve()
    strays = [
        path
        for path in result["files"]
        if not Path(path).resolve().is_relative_to(built.path)
        and not Path(path).resolve().is_relative_to(stdlib)
    ]
    assert strays == []
    loaded = set(result["modules"])
    assert loaded.isdisjoint(OFF_THE_LAMBDA_PATH), loaded & set(OFF_THE_LAMBDA_PATH)


def test_the_package_holds_no_tests_and_no_development_tools(built: package.Built) -> None:
    top_level = {path.name for path in built.path.iterdir()}
    assert "tests" not in top_level
    assert "bin" not in top_level
    assert top_level.isdisjoint(NEVER_SHIPPED), top_level & set(NEVER_SHIPPED)
    distributions = set(built.distributions)
    assert distributions.isdisjoint(package.normalize(n) for n in [*NEVER_SHIPPED, "PyJWT"])
    assert not list((built.path / "catalog").rglob("test_*.py"))
    # The catalog's own metadata: the OpenAPI document reports the project's version.
    assert "product-catalog" in distributions


def test_every_shipped_distribution_is_the_locked_version(built: package.Built) -> None:
    pins = package.locked_versions()
    shipped = {name: v for name, v in built.distributions.items() if name != "product-catalog"}
    assert shipped == {name: pins[name] for name in shipped}
    # The requirements the functions need are all there, and nothing else was asked for.
    assert {package.normalize(name) for name in package.LAMBDA_REQUIREMENTS} <= set(shipped)


def test_lambda_requirements_are_declared_by_the_project() -> None:
    """deploy/package.py installs a subset of what pyproject.toml declares (core + aws)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["aws"]]
    names = {package.normalize(re.split(r"[\[<>=!~; ]", spec, maxsplit=1)[0]) for spec in declared}
    wanted = {package.normalize(name) for name in package.LAMBDA_REQUIREMENTS}
    assert wanted <= names, wanted - names
    assert wanted.isdisjoint(package.normalize(name) for name in package.EXCLUDED)


def test_bytecode_is_compiled_for_the_target_python_only(built: package.Built) -> None:
    tag = sys.implementation.cache_tag  # e.g. cpython-311: this build targets this Python
    compiled = list(built.path.glob(f"catalog/entrypoints/__pycache__/lambda_api.{tag}.pyc"))
    assert compiled, "the handler ships without bytecode: every cold start would compile it"
    other = [p for p in built.path.rglob("*.pyc") if f".{tag}." not in p.name]
    assert other == []


def test_arm64_wheels_are_chosen_among_every_manylinux_lambda_accepts() -> None:
    tags = package.manylinux_platforms("manylinux_2_34_aarch64")
    # Pillow's aarch64 wheels are manylinux_2_28, pydantic-core's manylinux_2_17 (2014).
    assert {"manylinux_2_34_aarch64", "manylinux_2_28_aarch64", "manylinux2014_aarch64"} <= set(
        tags
    )
    assert all(tag.endswith("_aarch64") for tag in tags)
    assert "manylinux_2_35_aarch64" not in tags


def test_zip_is_reproducible_and_readable_by_the_runtime_user(
    built: package.Built, tmp_path: Path
) -> None:
    # The catalog's folder stands for the whole package: same code, same bytes, same CodeSha256.
    source = built.path / "catalog"
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    package.write_zip(source, first)
    package.write_zip(source, second)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        handler = archive.getinfo("entrypoints/lambda_api.py")
        assert (handler.external_attr >> 16) & 0o444 == 0o444
        assert len(archive.namelist()) == sum(1 for p in source.rglob("*") if p.is_file())


def test_building_into_a_folder_that_is_not_empty_is_refused(tmp_path: Path) -> None:
    (tmp_path / "left-over.py").write_text("")
    with pytest.raises(SystemExit, match="not empty"):
        package.build(tmp_path, package.Target(platforms=(), python_version="3.12"))


def test_the_script_needs_nothing_but_the_standard_library(clean_python: Path) -> None:
    """SAM runs deploy/package.py with whatever python3 it finds, the project not installed."""
    done = subprocess.run(
        [str(clean_python), "-I", str(ROOT / "deploy" / "package.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "--platform" in done.stdout
