"""botocore's data files (service models, endpoint rules, endpoints.json) decoded by orjson.

botocore decodes them with the standard library into OrderedDict objects; a cold Lambda
container decodes ~1.5 MB of them for its first client. orjson gives the same values (dicts
keep their order) in a fraction of the time. Used by clients.aws_session only.
"""

from __future__ import annotations

import gzip
from typing import Any

import orjson
from botocore.loaders import JSONFileLoader


class OrjsonFileLoader(JSONFileLoader):
    """botocore's file loader with orjson: `exists` is botocore's, `load_file` reads the same
    files in the same order of preference (plain, then gzipped)."""

    def load_file(self, file_path: str) -> Any:
        # file_path has no extension; None (no such file) is what botocore expects then.
        for extension, open_file in ((".json", open), (".json.gz", gzip.open)):
            try:
                with open_file(file_path + extension, "rb") as file:
                    return orjson.loads(file.read())
            except FileNotFoundError:
                continue
        return None
