"""botocore's data loader with a shorter path to a client's first model, for cold starts.

Creating a client costs mostly botocore's loading of its data, not the client itself:

- the files (service model, endpoint rules, the 1.2 MB endpoints.json every client reads) are
  decoded with the standard library into OrderedDict objects; orjson gives the same values
  (dicts keep their order) in a fraction of the time;
- before loading a model botocore lists every service it has (~450 folders), opening each
  folder's versions to see that one has a model of the wanted type: ~900 directory listings
  and ~2,800 stats, only to check that the name is known.

The models loaded, their versions and the search paths (AWS_DATA_PATH included) are
botocore's. Used by clients.aws_session.
"""

from __future__ import annotations

import gzip
import os
from typing import Any

import orjson
from botocore.loaders import JSONFileLoader, Loader, instance_cache


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


class ServiceFoldersLoader(Loader):
    """botocore's Loader, whose services are its search paths' folders.

    botocore only asks for the list to tell a known service from an unknown one before it
    loads a model, and then picks the latest version that has the model, checking the files
    of that one service's folder. What changes: for a folder without a model of the wanted
    type, the error is botocore's DataNotFoundError rather than UnknownServiceError.
    """

    @instance_cache
    def list_available_services(self, type_name: str) -> list[str]:
        return sorted(
            {
                entry.name
                for location in self.search_paths
                if os.path.isdir(location)
                for entry in os.scandir(location)
                if entry.is_dir()
            }
        )


def data_loader(data_path: str | None) -> Loader:
    """The loader for botocore's `data_path` setting (AWS_DATA_PATH: extra folders of models,
    os.pathsep-separated), searched as botocore.loaders.create_loader searches them."""
    extra = None
    if data_path:
        extra = [
            os.path.expandvars(os.path.expanduser(path)) for path in data_path.split(os.pathsep)
        ]
    return ServiceFoldersLoader(extra_search_paths=extra, file_loader=OrjsonFileLoader())
