"""The ports one use case may use, bundled so entrypoints pass one object."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.service.cursors import CursorCodec
from catalog.service.ports import (
    AssetStore,
    Clock,
    IdGenerator,
    ImageInspector,
    JobFiles,
    JobQueue,
    JobStore,
    ProductStore,
)


@dataclass(frozen=True)
class CatalogContext:
    store: ProductStore
    assets: AssetStore
    images: ImageInspector
    clock: Clock
    ids: IdGenerator
    cursors: CursorCodec


@dataclass(frozen=True)
class JobsContext:
    """The ports of jobs, beside the catalog's."""

    store: JobStore
    files: JobFiles
    queue: JobQueue
