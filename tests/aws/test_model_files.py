"""The session the Lambda builds its clients from loads botocore's models as botocore does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from botocore.loaders import Loader

from catalog.adapters.aws.clients import aws_session
from catalog.adapters.aws.model_files import OrjsonFileLoader, ServiceFoldersLoader, data_loader

MODEL_TYPES = ("service-2", "endpoint-rule-set-1")


def test_the_orjson_loader_reads_what_botocore_reads() -> None:
    plain, fast = Loader(), Loader(file_loader=OrjsonFileLoader())
    assert fast.load_data("endpoints") == plain.load_data("endpoints")
    for type_name in MODEL_TYPES:  # gzipped in botocore's data
        assert fast.load_service_model("dynamodb", type_name) == plain.load_service_model(
            "dynamodb", type_name
        )


def test_a_missing_file_is_none_as_for_botocore(tmp_path: Path) -> None:
    assert OrjsonFileLoader().load_file(str(tmp_path / "nothing-here")) is None


@pytest.mark.parametrize("type_name", MODEL_TYPES)
def test_every_service_botocore_knows_is_known(type_name: str) -> None:
    known = set(ServiceFoldersLoader().list_available_services(type_name))
    assert set(Loader().list_available_services(type_name)) <= known


@pytest.mark.parametrize("service", ["dynamodb", "s3", "events", "dynamodbstreams", "sqs"])
def test_the_catalogs_services_load_the_same_models(service: str) -> None:
    plain, short = Loader(), data_loader(None)
    for type_name in MODEL_TYPES:
        assert short.load_service_model(service, type_name) == plain.load_service_model(
            service, type_name
        )


def test_aws_data_path_is_searched_first(tmp_path: Path) -> None:
    loader = data_loader(f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}")
    assert loader.search_paths[:2] == [str(tmp_path / "a"), str(tmp_path / "b")]
    assert loader.search_paths[2:] == Loader().search_paths


def test_the_session_uses_it() -> None:
    loader = aws_session()._session.get_component("data_loader")
    assert isinstance(loader, ServiceFoldersLoader)
    assert isinstance(loader.file_loader, OrjsonFileLoader)
