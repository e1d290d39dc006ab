"""The ports one use case may use, bundled so entrypoints pass one object."""

from __future__ import annotations

from msgspec import Struct

from catalog.service.cursors import CursorCodec
from catalog.service.ports import (
    AssetStore,
    ChunkQueue,
    Clock,
    IdGenerator,
    ImageInspector,
    JobChunks,
    JobFiles,
    JobQueue,
    JobStore,
    ProductStore,
)


class CatalogContext(Struct, frozen=True):
    store: ProductStore
    assets: AssetStore
    images: ImageInspector
    clock: Clock
    ids: IdGenerator
    cursors: CursorCodec


class JobsContext(Struct, frozen=True):
    """The ports of jobs, beside the catalog's."""

    store: JobStore
    files: JobFiles
    queue: JobQueue
    # Imports cut into chunks for several workers (AWS); None: every job runs as one.
    chunking: Chunking | None = None


class Chunking(Struct, frozen=True):
    """How an import runs on several workers: its chunks' records, their queue, and the
    size of a chunk (an import whose file holds less runs as one job)."""

    store: JobChunks
    queue: ChunkQueue
    chunk_bytes: int
