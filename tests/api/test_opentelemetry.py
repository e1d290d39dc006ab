"""FastAPI's native OpenTelemetry is off unless CATALOG_OPENTELEMETRY asks for it: then each
request is a span on the globally configured tracer provider."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from msgspec.structs import replace
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from catalog.bootstrap import Container
from catalog.entrypoints.api.app import create_app

pytestmark = pytest.mark.parametrize("backend", ["memory"], indirect=True)

_EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def tracer_provider() -> None:
    # The global provider can be set once per process; only this module's apps look at it.
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    trace.set_tracer_provider(provider)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def _health(container: Container, opentelemetry: bool) -> None:
    settings = container.settings.model_copy(update={"opentelemetry": opentelemetry})
    app = create_app(replace(container, settings=settings))
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200


def test_off_by_default_no_request_is_traced(
    container: Container, spans: InMemorySpanExporter
) -> None:
    assert container.settings.opentelemetry is False
    _health(container, opentelemetry=False)
    assert spans.get_finished_spans() == ()


def test_when_asked_for_each_request_is_a_span(
    container: Container, spans: InMemorySpanExporter
) -> None:
    _health(container, opentelemetry=True)
    names = [span.name for span in spans.get_finished_spans()]
    assert any("/health" in name for name in names), names
