"""Builds the Lambda deployment package: the catalog and exactly what its functions import.

    python deploy/package.py --target DIR [--platform manylinux_2_34_aarch64]
                             [--python-version 3.12] [--zip FILE]

Without --platform the package is built for the interpreter running this script (tests import
it here); with one, for that platform (the Lambda's: Amazon Linux 2023, glibc 2.34, arm64).
Standard library only: SAM runs it from the Makefile (`make build-ApiFunction`) with whatever
python3 is on the path.

What goes in:
- the runtime dependencies of the Lambda functions (LAMBDA_REQUIREMENTS), each at the version
  pinned in requirements.lock, from binary wheels only; the embedded server's uvicorn, typer,
  httpx, standardwebhooks and PyJWT stay out;
- the `catalog` package from src/, without caches, plus a small dist-info so
  `importlib.metadata.version("product-catalog")` (the OpenAPI version) answers as installed;
- bytecode compiled for the target interpreter when the one running this script is that
  version: Lambda's code folder is read-only, so without shipped .pyc every cold start
  compiles every module it imports.

Nothing is stripped from the dependencies but caches and console scripts: botocore's data for
services the catalog does not call would save ~20 MB unzipped, but boto3 loads its endpoint
and partition data for every client, and a deleted model fails only at run time.
"""

from __future__ import annotations

import argparse
import compileall
import os
import py_compile
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "catalog"
LOCK = ROOT / "requirements.lock"
PYPROJECT = ROOT / "pyproject.toml"

# What the API, relay and re-evaluation functions import, directly or lazily on some route.
# Versions come from requirements.lock; tests/deploy/test_package.py checks that each is
# declared in pyproject.toml (core dependencies or the `aws` extra).
LAMBDA_REQUIREMENTS = (
    "fastapi",
    "fastapi-offline",  # Swagger UI and ReDoc assets: /docs works without a CDN
    "pydantic",
    "pydantic-settings",
    "python-multipart",  # image uploads (multipart/form-data)
    "python-ulid",
    "pillow",  # reads an uploaded image's type and size (imported only when one arrives)
    "tenacity",  # the adapters' retries (adapters/retries.py)
    "orjson",  # encodes the API's JSON views (entrypoints/api/responses.py)
    "msgspec",  # the value classes (Struct: commands, events, value objects)
    "jinja2",  # the console's pages (entrypoints/console), loaded on its first request
    # The runtime has its own boto3, upgraded by AWS on its own schedule; the package pins the
    # version the tests ran with, so a deploy behaves like the test run (and botocore's
    # standard retry mode, timeouts and presigning are the ones tested).
    "boto3",
    "mangum",
    "aws-lambda-powertools",
)

# With CATALOG_AUTH=jwks the API verifies tokens itself (RS256/ES256): --with-jwks adds these.
JWKS_REQUIREMENTS = ("PyJWT", "cryptography")

# Never imported by the functions; a test asserts they stay out of the package.
EXCLUDED = ("uvicorn", "typer", "httpx", "standardwebhooks")

# The oldest glibc a manylinux wheel may need on the Lambda: manylinux_2_34 down to 2014.
OLDEST_MANYLINUX = 17

# A zip's entries get this date: the same code always zips to the same bytes (and the same
# CodeSha256, so an unchanged function is not redeployed).
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Target:
    platforms: tuple[str, ...]  # empty: the running interpreter's platform
    python_version: str  # "3.12"

    @property
    def is_host(self) -> bool:
        return not self.platforms

    @property
    def matches_running_python(self) -> bool:
        return self.python_version == f"{sys.version_info.major}.{sys.version_info.minor}"


@dataclass(frozen=True)
class Built:
    path: Path
    files: int
    bytes: int
    distributions: dict[str, str]  # normalized name -> version


def normalize(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(lock: Path = LOCK) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in lock.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[normalize(name)] = version.strip()
    return pins


def manylinux_platforms(platform: str) -> list[str]:
    """`manylinux_2_34_aarch64` and every older manylinux tag a glibc 2.34 system accepts.

    pip matches --platform literally (it does not widen manylinux_2_34 to manylinux_2_28),
    and wheels are tagged with the oldest glibc they need.
    """
    match = re.fullmatch(r"manylinux_2_(\d+)_(\w+)", platform)
    if not match:
        return [platform]
    newest, arch = int(match.group(1)), match.group(2)
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(newest, OLDEST_MANYLINUX - 1, -1)]
    return [*tags, f"manylinux2014_{arch}"]


def install_dependencies(target_dir: Path, target: Target, requirements: list[str]) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # bytecode is compiled below, for the target interpreter only
        "--only-binary=:all:",  # no build step: the same wheels every time
        "--target",
        str(target_dir),
        "--constraint",
        str(LOCK),
    ]
    if not target.is_host:
        command += ["--implementation", "cp", "--python-version", target.python_version]
        for platform in target.platforms:
            for tag in manylinux_platforms(platform):
                command += ["--platform", tag]
    # Root in build containers: pip's warning about it says nothing about a --target install.
    env = {**os.environ, "PIP_ROOT_USER_ACTION": "ignore"}
    subprocess.run([*command, *requirements], check=True, env=env)


def installed_distributions(target_dir: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for metadata in target_dir.glob("*.dist-info/METADATA"):
        fields = dict(
            line.split(": ", 1) for line in metadata.read_text().splitlines() if ": " in line
        )
        found[normalize(fields["Name"])] = fields["Version"]
    return found


def check_pins(distributions: dict[str, str], pins: dict[str, str]) -> None:
    """Every distribution in the package is the one requirements.lock pins: a dependency that
    appears only for the target (an environment marker) must be locked first."""
    wrong = {
        name: version
        for name, version in distributions.items()
        if name != "product-catalog" and pins.get(name) != version
    }
    if wrong:
        raise SystemExit(
            f"not pinned in requirements.lock (or pinned to another version): {wrong}; "
            "run `make lock`"
        )


def copy_catalog(target_dir: Path) -> None:
    shutil.copytree(
        SOURCE,
        target_dir / "catalog",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyi"),
    )
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    name, version = project["name"], project["version"]
    info = target_dir / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        f"Summary: {project.get('description', '')}\n"
    )
    (info / "INSTALLER").write_text("deploy/package.py\n")
    (info / "top_level.txt").write_text("catalog\n")


def remove_unneeded(target_dir: Path) -> None:
    # Console scripts (pip puts them in bin/): nothing runs them on Lambda.
    shutil.rmtree(target_dir / "bin", ignore_errors=True)
    for cache in target_dir.rglob("__pycache__"):
        shutil.rmtree(cache)


def compile_bytecode(target_dir: Path) -> None:
    # unchecked-hash: the .pyc is used as is, never compared with the source's mtime (which a
    # zip round trip does not keep exactly); the package is never edited in place.
    ok = compileall.compile_dir(
        target_dir,
        quiet=1,
        workers=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    if not ok:
        raise SystemExit("bytecode compilation failed")


def write_zip(source_dir: Path, zip_path: Path) -> None:
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(p for p in source_dir.rglob("*") if p.is_file()):
            entry = zipfile.ZipInfo(path.relative_to(source_dir).as_posix(), ZIP_DATE)
            entry.external_attr = 0o100644 << 16  # readable by the runtime's user
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, path.read_bytes())


def build(target_dir: Path, target: Target, *, with_jwks: bool = False) -> Built:
    if target_dir.exists() and any(target_dir.iterdir()):
        raise SystemExit(f"{target_dir} is not empty: the package is built into an empty folder")
    target_dir.mkdir(parents=True, exist_ok=True)
    requirements = [*LAMBDA_REQUIREMENTS, *(JWKS_REQUIREMENTS if with_jwks else ())]
    install_dependencies(target_dir, target, requirements)
    remove_unneeded(target_dir)
    distributions = installed_distributions(target_dir)
    check_pins(distributions, locked_versions())
    copy_catalog(target_dir)
    if target.matches_running_python:
        compile_bytecode(target_dir)
    else:
        print(
            f"package: no bytecode (this is Python {sys.version_info.major}."
            f"{sys.version_info.minor}, the target {target.python_version}): cold starts will "
            f"compile what they import; build with python{target.python_version} to ship it",
            file=sys.stderr,
        )
    files = [p for p in target_dir.rglob("*") if p.is_file()]
    return Built(
        target_dir,
        len(files),
        sum(p.stat().st_size for p in files),
        installed_distributions(target_dir),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--target", type=Path, required=True, help="an empty or new folder")
    parser.add_argument(
        "--platform",
        action="append",
        default=[],
        help="wheel platform, e.g. manylinux_2_34_aarch64 (arm64 Lambda); default: this machine",
    )
    parser.add_argument(
        "--python-version",
        help="the Lambda runtime's Python, e.g. 3.12 (default: this interpreter's)",
    )
    parser.add_argument("--zip", type=Path, help="also write the package as this zip file")
    parser.add_argument(
        "--with-jwks", action="store_true", help="add PyJWT and cryptography (CATALOG_AUTH=jwks)"
    )
    args = parser.parse_args(argv)
    if args.platform and not args.python_version:
        parser.error("--platform needs --python-version (the Lambda runtime's Python)")
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    target = Target(tuple(args.platform), args.python_version or running)
    built = build(args.target.resolve(), target, with_jwks=args.with_jwks)
    summary = f"package: {built.path}: {built.files} files, {built.bytes / 1e6:.1f} MB unzipped"
    if args.zip:
        write_zip(built.path, args.zip)
        summary += f", {args.zip.stat().st_size / 1e6:.1f} MB zipped ({args.zip})"
    print(summary)
    print("package: " + ", ".join(f"{n}=={v}" for n, v in sorted(built.distributions.items())))


if __name__ == "__main__":
    main()
