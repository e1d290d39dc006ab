"""JobFiles on S3 (the AWS deployment; docs/jobs-aws.md): every file of a job is the object
`<prefix>/<key>` of one bucket, `key` being the job runner's (`<merchant>/<job>/input.jsonl`,
`.../export.csv`, `.../outcomes.jsonl`).

**Input files.** `save` streams the upload (upload_fileobj: one PutObject, or a multipart upload
of 8 MiB parts past that size). `open` reads the object in ranged GETs of 64 MiB through a
1 MiB buffer, so memory stays flat on a file of any size. The import runner reads a file twice
(it counts the rows, seeks to 0, reads them): a seek drops the GET under way and the next read
starts another at the new position. Every GET asks for the ETag the first request saw, so a
file replaced under a running job fails the read instead of mixing two files, and a connection
dropped mid-range is opened again where the read stopped.

**Outputs.** An export's file or a bulk action's outcomes are written batch by batch, each batch
before the job commits it, and a resumed job cuts the file back to the size its last committed
batch left (JobFiles.write). An S3 object can be neither appended to nor cut, so an output being
written is a chain of part objects `<prefix>/<key>.parts/<offset, 20 digits>`, each holding what
one write put at that offset:

- a write at `offset` puts its part there, replacing what an earlier write put at that offset
  (a batch written and never committed: the resumed job writes that offset again);
- the chain is read from 0, each part leading to the one at its end, up to the committed size:
  a part off the chain (a write never committed) is never read;
- a write at `offset` also tells that everything before it is committed (the runner writes at
  the job's committed size). So the small parts after the last large one, once they add up to
  `segment_bytes` (16 MiB), are merged into one part at the first one's offset: the chain is
  large parts, each over S3's 5 MiB minimum for a part of a multipart upload, and a tail of
  small ones;
- `finish(key, size)` makes `<prefix>/<key>` whole: one multipart upload whose parts are the
  large parts, copied inside S3 (UploadPartCopy, a few at a time), and the tail read and
  uploaded as its last part; under 16 MiB, one PutObject. OutputsWholeAtFinish calls it before
  the commit that ends the job: whenever a job is seen finished, the file its `download_url`
  presigns is whole.

The parts stay until `discard_parts` (called once the job's end is committed) or the bucket's
lifecycle rule: a finish whose commit failed leaves them for the resumed run, which may write
more and finish again. A 1 GB output is some 60 large parts and so about as many copies.

An instance remembers what it learnt of an output's chain between writes (no listing per
write), and the bytes of the small parts it wrote (no GET to merge them): a worker uses one
instance per run of a job, and one that finds the chain other than it left it lists it again.
One writer per output: two runs of one job at once (a message delivered twice) could replace
each other's parts. The worker runs a job's messages one at a time (entrypoints/lambda_jobs.py),
and `finish` composes only parts whose ETag is the one its instance wrote or listed: a part the
other run replaced fails the finish (JobOutputBroken) rather than entering the file.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import PurePosixPath
from typing import IO, TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from msgspec import Struct, field

from catalog.domain.events import DomainEvent
from catalog.domain.jobs import Job, JobKind, JobStatus, RowError
from catalog.service.ports import Change, JobPage, JobStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

logger = logging.getLogger(__name__)

MIB = 1024 * 1024
#: S3's smallest part of a multipart upload, but for the last one.
MIN_PART_BYTES = 5 * MIB
SEGMENT_BYTES = 16 * MIB
READ_RANGE_BYTES = 64 * MIB
READ_BUFFER_BYTES = MIB
UPLOAD_PART_BYTES = 8 * MIB
#: Requests of one finish (copies) or one merge (reads of parts not in memory) at once.
PARALLEL_REQUESTS = 8
READ_ATTEMPTS = 3
OFFSET_DIGITS = 20
PARTS_SUFFIX = ".parts/"
DELETE_BATCH = 1000  # DeleteObjects' most keys per call
_MISSING = ("NoSuchKey", "404", "NotFound")
_CONTENT_TYPES = {".jsonl": "application/x-ndjson", ".csv": "text/csv; charset=utf-8"}


class JobOutputBroken(RuntimeError):
    """An output's parts do not lead to the size its job committed: written by another run at
    the same time, or deleted (the lifecycle rule, by hand)."""

    def __init__(self, key: str, size: int) -> None:
        super().__init__(f"the parts of job file {key} do not reach its committed {size} bytes")


class _Output(Struct):
    """What an instance knows of one output's chain: the large parts from 0 (offset, size),
    the small parts after them (offset -> size; some maybe off the chain), each part's ETag as
    this instance wrote or listed it, and the bytes of the small parts it wrote."""

    large: list[tuple[int, int]] = field(default_factory=list)
    small: dict[int, int] = field(default_factory=dict)
    etags: dict[int, str] = field(default_factory=dict)
    written: dict[int, bytes] = field(default_factory=dict)

    @property
    def large_end(self) -> int:
        if not self.large:
            return 0
        offset, size = self.large[-1]
        return offset + size

    def tail(self, end: int) -> list[tuple[int, int]] | None:
        """The small parts from the last large one's end to `end`, in order; None when the
        chain does not reach `end` exactly."""
        position, found = self.large_end, []
        while position < end:
            size = self.small.get(position)
            if size is None:
                return None
            found.append((position, size))
            position += size
        return found if position == end else None

    def wrote(self, offset: int, data: bytes, etag: str) -> None:
        self.small[offset] = len(data)
        self.etags[offset] = etag
        self.written[offset] = data


class S3JobFiles:
    """Job files under `prefix` in `bucket`; download URLs presigned for `url_ttl_seconds`."""

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        *,
        prefix: str = "jobs",
        url_ttl_seconds: int = 3600,
        segment_bytes: int = SEGMENT_BYTES,
        read_range_bytes: int = READ_RANGE_BYTES,
    ) -> None:
        if segment_bytes < MIN_PART_BYTES:
            raise ValueError(f"segment_bytes must be at least {MIN_PART_BYTES} (S3's part size)")
        self._client = client
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._ttl = url_ttl_seconds
        self._segment_bytes = segment_bytes
        self._read_range_bytes = read_range_bytes
        self._outputs: dict[str, _Output] = {}

    # -- JobFiles port ----------------------------------------------------------------------

    def save(self, key: str, stream: IO[bytes]) -> int:
        from boto3.s3.transfer import TransferConfig

        counted = _Counted(stream)
        self._client.upload_fileobj(
            counted,  # type: ignore[arg-type]  # read() is all upload_fileobj calls
            self._bucket,
            self._key(key),
            ExtraArgs={"ContentType": _content_type(key)},
            Config=TransferConfig(
                multipart_threshold=UPLOAD_PART_BYTES,
                multipart_chunksize=UPLOAD_PART_BYTES,
                max_concurrency=4,
            ),
        )
        return counted.size

    def open(self, key: str) -> IO[bytes]:
        name = self._key(key)
        try:
            head = self._client.head_object(Bucket=self._bucket, Key=name)
        except ClientError as error:
            if _code(error) in _MISSING:
                raise FileNotFoundError(key) from error
            raise
        raw = _RangedObject(
            self._client,
            self._bucket,
            name,
            size=head["ContentLength"],
            etag=head["ETag"],
            range_bytes=self._read_range_bytes,
        )
        return io.BufferedReader(raw, READ_BUFFER_BYTES)

    def write(self, key: str, offset: int, data: bytes) -> int:
        name = self._key(key)
        output = self._output(name, offset)
        put = self._client.put_object(Bucket=self._bucket, Key=_part_key(name, offset), Body=data)
        # What the chain held from `offset` on was never committed: the new part replaces it.
        output.small = {at: size for at, size in output.small.items() if at < offset}
        output.written = {at: part for at, part in output.written.items() if at < offset}
        output.wrote(offset, data, put["ETag"])
        self._merge(name, output, offset)
        return offset + len(data)

    def download_url(self, key: str) -> str:
        # botocore signs locally: no request is sent.
        return self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": self._key(key),
                "ResponseContentDisposition": (f'attachment; filename="{PurePosixPath(key).name}"'),
            },
            ExpiresIn=self._ttl,
        )

    def upload_ticket(
        self, key: str, content_type: str, max_bytes: int, expires_in: int
    ) -> tuple[str, dict[str, str]]:
        """A presigned POST (computed locally) that S3 accepts only for this key, exactly this
        Content-Type and 1..max_bytes bytes: the import file goes past the API and Lambda."""
        post = self._client.generate_presigned_post(
            Bucket=self._bucket,
            Key=self._key(key),
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in,
        )
        return post["url"], {name: str(value) for name, value in post["fields"].items()}

    # -- outputs ----------------------------------------------------------------------------

    def finish(self, key: str, size: int) -> None:
        """Make the output under `key` whole from its parts up to `size` (the job's committed
        bytes). Safe to repeat: each finish composes the object again from the parts.

        Every part of the chain must still be the one this instance wrote or found (its ETag
        as listed now): a part another run of the job replaced is JobOutputBroken, never a file
        with that run's lines in it."""
        name = self._key(key)
        output = self._output(name, size)
        self._check_parts(name, output, size)
        tail = output.tail(size)
        assert tail is not None  # _output checked that the chain reaches `size`
        last = b"".join(self._part_bytes(name, output, tail))
        if not output.large:
            self._client.put_object(
                Bucket=self._bucket, Key=name, Body=last, ContentType=_content_type(key)
            )
            return
        upload = self._client.create_multipart_upload(
            Bucket=self._bucket, Key=name, ContentType=_content_type(key)
        )["UploadId"]
        try:
            parts = self._copied_parts(name, upload, output)
            if last:
                number = len(parts) + 1
                uploaded = self._client.upload_part(
                    Bucket=self._bucket, Key=name, UploadId=upload, PartNumber=number, Body=last
                )
                parts.append({"PartNumber": number, "ETag": uploaded["ETag"]})
            self._client.complete_multipart_upload(
                Bucket=self._bucket, Key=name, UploadId=upload, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            self._abort(name, upload)
            raise

    def discard_parts(self, key: str) -> None:
        """Delete the parts of the output under `key` (its job's end is committed)."""
        name = self._key(key)
        self._outputs.pop(name, None)
        self._delete([part for part, _, _ in self._listed_parts(name)])

    # -- internals --------------------------------------------------------------------------

    def _key(self, key: str) -> str:
        relative = PurePosixPath(key)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise ValueError(f"not a job file key: {key!r}")
        return f"{self._prefix}/{relative}" if self._prefix else str(relative)

    def _output(self, name: str, end: int) -> _Output:
        """The output's chain as far as `end`, from what this instance knows, else listed."""
        output = self._outputs.get(name)
        if output is None or output.tail(end) is None:
            output = self._listed_output(name)
            if output.tail(end) is None:
                raise JobOutputBroken(name, end)
            self._outputs[name] = output
        return output

    def _listed_output(self, name: str) -> _Output:
        listed = {
            _part_offset(name, part): (size, etag) for part, size, etag in self._listed_parts(name)
        }
        sizes = {offset: size for offset, (size, _) in listed.items()}
        output = _Output(etags={offset: etag for offset, (_, etag) in listed.items()})
        # Leading parts that S3 takes as parts of a multipart upload are the large ones; a merge
        # leaves every part before the small ones at least that large.
        position = 0
        while (size := sizes.get(position)) is not None and size >= MIN_PART_BYTES:
            output.large.append((position, size))
            position += size
        output.small = {at: size for at, size in sizes.items() if at >= position}
        return output

    def _listed_parts(self, name: str) -> Iterator[tuple[str, int, str]]:
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=name + PARTS_SUFFIX
        )
        for page in pages:
            for entry in page.get("Contents", []):
                yield entry["Key"], entry["Size"], entry["ETag"]

    def _check_parts(self, name: str, output: _Output, end: int) -> None:
        """JobOutputBroken unless every part of the chain to `end` is listed as known."""
        listed = {
            _part_offset(name, part): (size, etag) for part, size, etag in self._listed_parts(name)
        }
        chain = [*output.large, *(output.tail(end) or ())]
        for offset, size in chain:
            if listed.get(offset) != (size, output.etags.get(offset)):
                raise JobOutputBroken(name, end)

    def _merge(self, name: str, output: _Output, committed: int) -> None:
        """The committed small parts (before `committed`) as one large part, once they add up
        to `segment_bytes`."""
        start = output.large_end
        if committed - start < self._segment_bytes:
            return
        tail = output.tail(committed)
        assert tail is not None  # _output checked that the chain reaches the write's offset
        data = b"".join(self._part_bytes(name, output, tail))
        put = self._client.put_object(Bucket=self._bucket, Key=_part_key(name, start), Body=data)
        for offset, _ in tail:
            output.small.pop(offset, None)
            output.written.pop(offset, None)
            output.etags.pop(offset, None)
        output.large.append((start, len(data)))
        output.etags[start] = put["ETag"]
        # Off the chain now (the merged part leads past them): deleting them only saves storage.
        self._delete([_part_key(name, offset) for offset, _ in tail[1:]])

    def _part_bytes(
        self, name: str, output: _Output, parts: Sequence[tuple[int, int]]
    ) -> list[bytes]:
        def read(part: tuple[int, int]) -> bytes:
            offset, size = part
            data = output.written.get(offset)
            if data is None:
                response = self._client.get_object(
                    Bucket=self._bucket, Key=_part_key(name, offset), IfMatch=output.etags[offset]
                )
                data = response["Body"].read()
            if len(data) != size:
                raise JobOutputBroken(name, offset + size)
            return data

        if all(offset in output.written for offset, _ in parts):
            return [read(part) for part in parts]
        with ThreadPoolExecutor(PARALLEL_REQUESTS) as pool:
            return list(pool.map(read, parts))

    def _copied_parts(self, name: str, upload: str, output: _Output) -> list[CompletedPartTypeDef]:
        def copy(numbered: tuple[int, tuple[int, int]]) -> CompletedPartTypeDef:
            number, (offset, _) = numbered
            copied = self._client.upload_part_copy(
                Bucket=self._bucket,
                Key=name,
                UploadId=upload,
                PartNumber=number,
                CopySource={"Bucket": self._bucket, "Key": _part_key(name, offset)},
                # Replaced since it was checked: the copy fails rather than take it.
                CopySourceIfMatch=output.etags[offset],
            )
            return {"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]}

        with ThreadPoolExecutor(PARALLEL_REQUESTS) as pool:
            return list(pool.map(copy, enumerate(output.large, start=1)))

    def _abort(self, name: str, upload: str) -> None:
        try:
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=name, UploadId=upload)
        except (BotoCoreError, ClientError):
            # The bucket's lifecycle rule aborts what is left of it.
            logger.warning("could not abort the multipart upload of %s", name, exc_info=True)

    def _delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            self._client.delete_objects(
                Bucket=self._bucket,
                Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
            )


def _part_key(name: str, offset: int) -> str:
    return f"{name}{PARTS_SUFFIX}{offset:0{OFFSET_DIGITS}d}"


def _part_offset(name: str, part: str) -> int:
    return int(part.removeprefix(name + PARTS_SUFFIX))


def _content_type(key: str) -> str:
    return _CONTENT_TYPES.get(PurePosixPath(key).suffix, "application/octet-stream")


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class _Counted:
    """A stream's reader that counts the bytes read."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.size += len(data)
        return data


class _RangeCutShort(OSError):
    """A GET's body ended before the bytes of its range."""


class _RangedObject(io.RawIOBase):
    """An object read from `position` on by ranged GETs of `range_bytes`, each of the ETag
    the file was opened at."""

    def __init__(
        self, client: S3Client, bucket: str, key: str, *, size: int, etag: str, range_bytes: int
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key
        self._size = size
        self._etag = etag
        self._range_bytes = range_bytes
        self._position = 0
        self._range_end = 0
        self._body: Any = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        target = base + offset
        if target < 0:
            raise ValueError(f"negative position {target}")
        if target != self._position:
            self._drop()
            self._position = target
        return target

    def readinto(self, buffer: Any) -> int:
        if self._position >= self._size:
            return 0
        if self._body is None or self._position >= self._range_end:
            self._open_range()
        view = memoryview(buffer).cast("B")
        chunk = self._read(min(len(view), self._range_end - self._position))
        view[: len(chunk)] = chunk
        self._position += len(chunk)
        return len(chunk)

    def close(self) -> None:
        self._drop()
        super().close()

    def _read(self, wanted: int) -> bytes:
        attempt = 1
        while True:
            try:
                chunk: bytes = self._body.read(wanted)
                if not chunk:
                    raise _RangeCutShort(f"{self._key} ended at {self._position}")
                return chunk
            except (BotoCoreError, OSError):
                if attempt >= READ_ATTEMPTS:
                    raise
                attempt += 1
                self._open_range()  # again, from where the read stopped

    def _open_range(self) -> None:
        self._drop()
        end = min(self._position + self._range_bytes, self._size)
        response = self._client.get_object(
            Bucket=self._bucket,
            Key=self._key,
            Range=f"bytes={self._position}-{end - 1}",
            IfMatch=self._etag,
        )
        self._body = response["Body"]
        self._range_end = end

    def _drop(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None


class OutputsWholeAtFinish:
    """A JobStore over `store` that makes a job's output file whole (S3JobFiles.finish)
    before the commit that ends the job, and deletes its parts once that commit is done: a job
    is never seen finished with a `download_url` that serves part of its file."""

    def __init__(self, store: JobStore, files: S3JobFiles) -> None:
        self._store = store
        self._files = files
        self.rows_per_batch = store.rows_per_batch

    def commit_rows(
        self,
        job: Job,
        expected_version: int,
        changes: Sequence[Change],
        errors: Sequence[RowError],
        events: Sequence[DomainEvent] = (),
    ) -> None:
        ending = job.output_key if job.status.finished else None
        if ending is not None:
            self._files.finish(ending, job.output_bytes)
        self._store.commit_rows(job, expected_version, changes, errors, events)
        if ending is not None:
            try:
                self._files.discard_parts(ending)
            except (BotoCoreError, ClientError):
                logger.warning("parts of %s left to the lifecycle rule", ending, exc_info=True)

    def create_job(self, job: Job) -> None:
        self._store.create_job(job)

    def job(self, merchant_id: str, job_id: str) -> Job | None:
        return self._store.job(merchant_id, job_id)

    def job_by_key(self, merchant_id: str, key: str) -> Job | None:
        return self._store.job_by_key(merchant_id, key)

    def jobs(
        self,
        merchant_id: str,
        *,
        kind: JobKind | None,
        status: JobStatus | None,
        limit: int,
        position: str | None,
    ) -> JobPage:
        return self._store.jobs(
            merchant_id, kind=kind, status=status, limit=limit, position=position
        )

    def cancel(self, merchant_id: str, job_id: str, now: datetime) -> None:
        self._store.cancel(merchant_id, job_id, now)

    def cancel_requested(self, merchant_id: str, job_id: str) -> bool:
        return self._store.cancel_requested(merchant_id, job_id)

    def job_errors(
        self, merchant_id: str, job_id: str, *, after_line: int, limit: int
    ) -> list[RowError]:
        return self._store.job_errors(merchant_id, job_id, after_line=after_line, limit=limit)

    def unfinished_jobs(self) -> list[tuple[str, str]]:
        return self._store.unfinished_jobs()
