"""boto3 clients as the catalog's AWS adapters use them: bounded timeouts, standard retries,
and created only when first needed.

boto3 is imported inside the functions: importing this module costs nothing, so the
composition root can name it on every path.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from boto3.session import Session


def aws_region() -> str | None:
    """AWS_REGION (what Lambda sets) or AWS_DEFAULT_REGION; botocore reads only the latter."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None


def aws_client(
    service: str, *, read_timeout: float = 5.0, session: Any = None, **options: Any
) -> Any:
    """A boto3 client configured for a request path: bounded timeouts, standard retries.

    The endpoint comes from botocore itself, which honours AWS_ENDPOINT_URL and
    AWS_ENDPOINT_URL_<SERVICE> (moto, LocalStack); credentials from the default chain.
    """
    import boto3
    from botocore.config import Config

    config = Config(
        region_name=aws_region(),
        connect_timeout=2,
        read_timeout=read_timeout,
        # standard: exponential backoff with jitter, retry quota, throttling-aware; 3 attempts
        # keep a request within API Gateway's 30 s integration timeout.
        retries={"mode": "standard", "max_attempts": 3},
        # Lambda freezes containers between invocations; keepalive probes let a kept-alive
        # connection be found dead early instead of on the next request's read timeout.
        tcp_keepalive=True,
        user_agent_extra="catalog",
        **options,
    )
    return (session or boto3).client(service, config=config)


def aws_session() -> Session:
    """A boto3 session for a cold start: botocore's data loader takes a shorter path to a
    client's models (model_files.py), which halves a DynamoDB client's creation. The session
    is otherwise botocore's own: the same models, credentials and configuration.
    """
    import boto3
    import botocore.session

    from catalog.adapters.aws.model_files import data_loader

    core = botocore.session.Session()
    core.register_component("data_loader", data_loader(core.get_config_variable("data_path")))
    return boto3.session.Session(botocore_session=core)


class LazyClient:
    """A boto3 client (or the session clients come from) created on first use, for a port
    that many requests never touch.

    Creating a client loads its service model (S3's is large): a cold Lambda container whose
    first requests never reach S3 (reads behind a CDN, JSON writes) does not pay for it.
    """

    def __init__(self, create: Callable[[], Any], lock: threading.Lock) -> None:
        self._create = create
        self._lock = lock
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        # Only reached for the client's attributes (methods, meta, exceptions).
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._create()
                client = self._client
        return getattr(client, name)
