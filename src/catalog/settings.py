"""Settings from the environment (prefix CATALOG_), read once by the composition root."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from msgspec import Struct
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class RequestRate(Struct, frozen=True):
    """CATALOG_RATE_LIMIT parsed: the requests per second a caller may sustain, and how many
    it may send at once (the token bucket's size)."""

    per_second: float
    burst: int

    def __str__(self) -> str:
        return f"{self.per_second:g}/s,burst={self.burst}"


_RATE = re.compile(r"(?P<count>\d+)/(?P<unit>s|m|h)(?:,burst=(?P<burst>\d+))?\Z")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
RATE_LIMIT_SYNTAX = "`off` or `<N>/s`, `<N>/m`, `<N>/h` with an optional `,burst=<B>`"


def parse_request_rate(text: str) -> RequestRate | None:
    """`100/s,burst=200` -> RequestRate(100, 200); the burst defaults to N; `off` -> None."""
    cleaned = text.strip().lower().replace(" ", "")
    if cleaned == "off":
        return None
    match = _RATE.match(cleaned)
    if match is None or int(match["count"]) == 0 or match["burst"] == "0":
        raise ValueError(f"{text!r} is not a rate limit: give {RATE_LIMIT_SYNTAX}, N and B > 0")
    count = int(match["count"])
    burst = int(match["burst"]) if match["burst"] else count
    return RequestRate(count / _UNIT_SECONDS[match["unit"]], burst)


_ORIGIN = re.compile(r"https?://[^/?#\s]+\Z")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CATALOG_", extra="ignore")

    backend: Literal["embedded", "aws"] = "embedded"
    data_dir: Path = Path(".catalog")
    # Absolute base of the URLs the embedded server gives out (image URLs, Location).
    public_url: str = "http://127.0.0.1:8000"
    # local: HS256 tokens signed with the data folder's secret (`catalog token`);
    # apigw: the claims API Gateway's JWT authorizer verified (Lambda only);
    # jwks: RS256/ES256 tokens checked against the issuer's published keys.
    auth: Literal["local", "apigw", "jwks"] = "local"
    # FastAPI's native OpenTelemetry (a span, HTTP metrics and logs per request, through the
    # globally configured providers, e.g. under `opentelemetry-instrument`). Off unless asked
    # for: even with no provider configured, checking for one costs about 5% of a GET.
    opentelemetry: bool = False
    jwt_issuer: str | None = None  # jwks: the exact `iss` (required)
    jwt_audience: str | None = None  # jwks: the expected `aud`; unchecked when unset
    jwks_url: str | None = None  # jwks: defaults to <issuer>/.well-known/jwks.json
    # Claims the principal is read from (apigw, jwks), e.g. custom:merchant_id on Cognito.
    jwt_merchant_claim: str = "merchant_id"
    jwt_roles_claim: str = "roles"
    # The claim listing the merchants a channel:<slug> principal acts for (apigw, jwks):
    # merchant ids, or "*" for all of them. A channel token without it acts for none.
    jwt_merchants_claim: str = "merchants"
    webhook_urls: Annotated[list[str], NoDecode] = []
    # Defaults to one derived from the data folder's secret; SecretStr: never shown in a repr.
    webhook_secret: SecretStr | None = None
    relay_poll_seconds: float = 0.5
    # AWS: how long a process judges product writes by the channels' requirements it read
    # last, instead of reading that one shared item on every write (docs/product-types.md).
    requirements_max_age: Annotated[float, Field(ge=0, le=300)] = 5.0
    # Attempts a webhook gets at one event before it is parked as a dead letter (`catalog
    # events dead`, `catalog events redrive`); the event log never parks.
    webhook_max_attempts: Annotated[int, Field(ge=1)] = 8
    # Webhook targets (adapters/webhook_targets.py): https to public addresses only, unless
    # this development switch admits loopback targets (http or https, e.g. receivers on
    # 127.0.0.1 in `make demo` and the tests). Private, link-local, metadata and other
    # special-purpose addresses are refused whatever it says.
    webhook_allow_http_loopback: bool = False

    # AWS backend
    table_name: str = "catalog"
    bucket_name: str = "catalog-assets"
    event_bus_name: str = "catalog"
    asset_base_url: str | None = None
    # Path prefix API Gateway adds before the app's routes (a named stage such as /prod);
    # "/" for the $default stage.
    api_gateway_base_path: str = "/"
    # Lifetime of presigned GET URLs when there is no CDN (asset_base_url unset).
    asset_url_ttl_seconds: int = 3600
    # Signs page cursors; required on AWS, where every Lambda container must share it (the
    # embedded deployment derives its own from the data folder's secret).
    cursor_secret: SecretStr | None = None
    # Jobs on AWS (docs/jobs-aws.md): the SQS queue new jobs go to, for the worker Lambda;
    # unset, the API answers jobs routes with 501 jobs-unavailable. A FIFO queue (.fifo) runs
    # one message of a job at a time (its group); a standard one is accepted too.
    jobs_queue_url: str | None = None
    # Where job files are (input files, exports, bulk actions' outcomes): this bucket (the
    # assets bucket when unset) under this prefix.
    jobs_bucket_name: str | None = None
    jobs_prefix: str = "jobs"
    # Lifetime of a job file's presigned download_url (computed again on every read of the job).
    jobs_url_ttl_seconds: Annotated[int, Field(ge=60, le=7 * 24 * 3600)] = 3600
    # An import whose file holds more is cut into chunks of about this many bytes, each run by
    # a worker of its own (AWS only; docs/jobs-aws.md "One job in parallel").
    jobs_chunk_bytes: Annotated[int, Field(ge=1)] = 8 * 1024 * 1024

    # ---- limits per caller, safe headers and origins (issue 10; docs/api.md "Limits and
    # headers"). Requests each caller may send to the app: per principal once its token is
    # verified, per client address otherwise (anonymous routes, tokens not seen yet or
    # invalid). None (`off`) for no limit: benchmarks and load tests. On Lambda the template
    # sets it off and API Gateway's stage throttling limits instead (docs/deploy.md).
    rate_limit: Annotated[RequestRate | None, NoDecode] = RequestRate(100, 200)
    # Browser origins allowed to call the API (CORS), comma-separated; empty: no CORS.
    cors_origins: Annotated[list[str], NoDecode] = []

    @field_validator("rate_limit", mode="before")
    @classmethod
    def _parse_rate_limit(cls, value: object) -> object:
        return parse_request_rate(value) if isinstance(value, str) else value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        origins = [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        for origin in origins:
            if origin != "*" and not _ORIGIN.match(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: give scheme://host[:port], such as "
                    "https://shop.example.com, with no path"
                )
        return origins

    # ---- end of issue 10's limits and headers

    # ---- the console's sign-in on AWS (docs/console-aws.md): OIDC authorization code with
    # PKCE against CATALOG_JWT_ISSUER, as this registered client. Unset (or empty, as the
    # template passes it when its parameter is): one-time sign-in links only.
    console_oidc_client_id: str | None = None
    # Confidential clients only (the token request authenticates with it); PKCE either way.
    console_oidc_client_secret: SecretStr | None = None
    # Space separated; `openid` is always asked for.
    console_oidc_scopes: str = "openid"

    @field_validator("console_oidc_client_id", "console_oidc_client_secret", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def configured_public_url(self) -> str | None:
        """The public URL when this deployment has one: always on the embedded server (the
        default is its own address); on AWS only an explicit CATALOG_PUBLIC_URL, since the
        embedded default means nothing behind API Gateway."""
        if self.backend == "aws" and "public_url" not in self.model_fields_set:
            return None
        return self.public_url

    @property
    def jwks_endpoint(self) -> str | None:
        if self.jwks_url:
            return self.jwks_url
        if self.jwt_issuer:
            return self.jwt_issuer.rstrip("/") + "/.well-known/jwks.json"
        return None

    @field_validator("webhook_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        if isinstance(value, str):
            return [url.strip() for url in value.split(",") if url.strip()]
        return value
