"""The session the Lambda builds its clients from reads botocore's data as botocore does."""

from __future__ import annotations

from pathlib import Path

from botocore.loaders import Loader

from catalog.adapters.aws.clients import aws_session
from catalog.adapters.aws.model_files import OrjsonFileLoader


def test_the_orjson_loader_reads_what_botocore_reads() -> None:
    plain, fast = Loader(), Loader(file_loader=OrjsonFileLoader())
    assert fast.load_data("endpoints") == plain.load_data("endpoints")
    for type_name in ("service-2", "endpoint-rule-set-1"):  # gzipped in botocore's data
        assert fast.load_service_model("dynamodb", type_name) == plain.load_service_model(
            "dynamodb", type_name
        )


def test_a_missing_file_is_none_as_for_botocore(tmp_path: Path) -> None:
    assert OrjsonFileLoader().load_file(str(tmp_path / "nothing-here")) is None


def test_the_session_uses_it() -> None:
    loader = aws_session()._session.get_component("data_loader")
    assert isinstance(loader.file_loader, OrjsonFileLoader)
