"""Fixtures every suite may use. AWS is emulated by moto's server, started here: real boto3
calls over HTTP to 127.0.0.1, never the cloud, never real credentials."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

REGION = "us-east-1"


@dataclass(frozen=True)
class AwsEndpoint:
    """Where moto listens, and boto3 clients pointed at it."""

    url: str

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[AwsEndpoint]:
    from moto.server import ThreadedMotoServer

    from tests.aws.moto_serial import serialize_dynamodb_requests

    # moto's threaded server interleaves concurrent transactions; real DynamoDB does not.
    serialize_dynamodb_requests()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield AwsEndpoint(f"http://{host}:{port}")
    finally:
        server.stop()


@pytest.fixture
def aws(moto_server: AwsEndpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsEndpoint]:
    """A clean emulated AWS account for one test; the environment points boto3 at it."""
    moto_server.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield moto_server
