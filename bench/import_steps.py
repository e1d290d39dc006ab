#!/usr/bin/env python3
"""What each part of the Lambda API's import costs, in the order a cold start imports it.

Each run is a fresh Python process with bench/cold_start.py's environment: it imports the
floor (`fastapi, mangum, boto3`), then each step in turn, timing each one alone; the result is
each step's median over the runs. A step's figure is what it adds to everything before it.

    .venv/bin/python bench/import_steps.py [--runs 7] [module ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from cold_start import ENV, ROOT, compile_catalog

STEPS = [
    "pydantic_settings",
    "catalog.settings",
    "catalog.domain.product",
    "catalog.service.commands",
    "catalog.service.products",
    "catalog.bootstrap",
    "catalog.adapters.aws.dynamodb_store",
    "catalog.adapters.aws.s3_assets",
    "catalog.entrypoints.api.schemas",
    "catalog.entrypoints.api.app",
    "catalog.entrypoints.lambda_api",
]

SCRIPT = """
import importlib, json, sys, time
started = time.perf_counter()
import fastapi, mangum, boto3
times = {"floor": time.perf_counter() - started}
for name in sys.argv[1:]:
    started = time.perf_counter()
    importlib.import_module(name)
    times[name] = time.perf_counter() - started
print(json.dumps(times))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes")
    parser.add_argument("modules", nargs="*", default=STEPS, help="the steps, in order")
    options = parser.parse_args()
    compile_catalog()
    runs: dict[str, list[float]] = {}
    for _ in range(options.runs):
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, *options.modules],
            env={**os.environ, **ENV},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            sys.exit(done.stderr[-3000:])
        for name, seconds in json.loads(done.stdout.splitlines()[-1]).items():
            runs.setdefault(name, []).append(seconds)
    print(f"import of each step after those above it, median of {options.runs} processes (ms)")
    for name, seconds in runs.items():
        print(f"{statistics.median(seconds) * 1000:8.1f}  {name}")


if __name__ == "__main__":
    main()
