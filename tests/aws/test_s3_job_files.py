"""S3JobFiles against moto: input files streamed in and read back in bounded ranges (twice, as
an import counts then reads), outputs written batch by batch, cut back on a resume, merged
into large parts, made whole by `finish` and served by a presigned URL computed without a
call; and OutputsWholeAtFinish, which finishes the file before the commit that ends a job."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ResponseStreamingError

from catalog.adapters.aws.s3_job_files import (
    MIB,
    MIN_PART_BYTES,
    JobOutputBroken,
    OutputsWholeAtFinish,
    S3JobFiles,
)
from catalog.adapters.memory.jobs import MemoryJobStore
from catalog.adapters.memory.store import MemoryStore
from catalog.domain.events import DomainEvent
from catalog.domain.jobs import Job, JobKind, JobStatus, RowError
from catalog.service.csv_rows import count_csv_rows, csv_rows
from catalog.service.import_files import count_jsonl_rows, jsonl_rows
from catalog.service.ports import Change
from tests.conftest import REGION, AwsEndpoint

BUCKET = "job-files-test"
INPUT = "acme/01JE0000000000000000000001/input.jsonl"
EXPORT = "acme/01JE0000000000000000000001/export.jsonl"


class Requests:
    """The operations a boto3 client is asked for, with their parameters, and how many
    requests it sends (presigning a URL is an operation's parameters, and no request)."""

    def __init__(self, client: Any) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.sends = 0
        client.meta.events.register("provide-client-params.s3.*", self._record)
        client.meta.events.register("before-send.s3", self._count)

    def _record(self, params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        self.sent.append((model.name, dict(params)))

    def _count(self, **kwargs: Any) -> None:
        self.sends += 1

    def named(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.sent if name == operation]


@pytest.fixture
def client(aws: AwsEndpoint) -> Any:
    client = boto3.client(
        "s3", endpoint_url=aws.url, region_name=REGION, config=Config(signature_version="s3v4")
    )
    client.create_bucket(Bucket=BUCKET)
    return client


def files(client: Any, **options: Any) -> S3JobFiles:
    return S3JobFiles(client, BUCKET, **options)


def stored(client: Any, key: str) -> bytes:
    body: bytes = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return body


def part_keys(client: Any, key: str) -> list[str]:
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=f"jobs/{key}.parts/")
    return [entry["Key"] for entry in listed.get("Contents", [])]


def jsonl(count: int, width: int = 100) -> bytes:
    return b"".join(
        json.dumps({"sku": f"SKU-{n}", "name": "x" * width}).encode() + b"\n" for n in range(count)
    )


# ---------------------------------------------------------------------- input files


def test_a_saved_file_is_read_in_ranges_twice_as_an_import_reads_it(client: Any) -> None:
    content = jsonl(20_000, width=450)  # ~9.6 MB: past 8 MiB, uploaded in parts
    job_files = files(client, read_range_bytes=MIB)
    uploads = Requests(client)
    assert job_files.save(INPUT, io.BytesIO(content)) == len(content)
    # (sent from the transfer manager's threads, in any order)
    assert sorted(p["PartNumber"] for p in uploads.named("UploadPart")) == [1, 2]
    assert stored(client, f"jobs/{INPUT}") == content
    head = client.head_object(Bucket=BUCKET, Key=f"jobs/{INPUT}")
    assert head["ContentType"] == "application/x-ndjson"

    requests = Requests(client)
    with job_files.open(INPUT) as stream:
        assert count_jsonl_rows(stream) == 20_000
        stream.seek(0)
        rows = list(jsonl_rows(stream))
    assert [row.sku for row in rows] == [f"SKU-{n}" for n in range(20_000)]

    ranges = [params["Range"] for params in requests.named("GetObject")]
    # One pass is every MiB of the file in order, each of the ETag the file was opened at.
    one_pass = [
        f"bytes={start}-{min(start + MIB, len(content)) - 1}"
        for start in range(0, len(content), MIB)
    ]
    assert ranges == one_pass + one_pass
    assert {params["IfMatch"] for params in requests.named("GetObject")} == {head["ETag"]}


def test_a_csv_file_reads_through_the_text_layer_twice(client: Any) -> None:
    content = b"sku,name,price\n" + b"".join(
        f"SKU-{n},Shoe {n},19.99\n".encode() for n in range(5000)
    )
    job_files = files(client, read_range_bytes=64 * 1024)
    job_files.save("acme/j/input.csv", io.BytesIO(content))
    with job_files.open("acme/j/input.csv") as stream:
        assert count_csv_rows(stream) == 5000
        stream.seek(0)
        rows = list(csv_rows(stream))
    assert len(rows) == 5000
    assert rows[-1].sku == "SKU-4999"
    assert rows[-1].line == 5001  # counting the header


def test_a_missing_file_is_file_not_found(client: Any) -> None:
    with pytest.raises(FileNotFoundError):
        files(client).open(INPUT)


def test_keys_outside_the_prefix_are_refused(client: Any) -> None:
    for key in ("../secrets", "/etc/passwd", "acme/../../x"):
        with pytest.raises(ValueError, match="not a job file key"):
            files(client).open(key)


class DroppingClient:
    """The client, whose GetObject bodies break off after `drop_after` bytes, once each for
    the first `drops` GETs: a connection lost mid-range."""

    def __init__(self, client: Any, drop_after: int, drops: int) -> None:
        self._client = client
        self._drop_after = drop_after
        self.drops_left = drops

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_object(self, **params: Any) -> dict[str, Any]:
        response: dict[str, Any] = self._client.get_object(**params)
        if self.drops_left > 0:
            self.drops_left -= 1
            response["Body"] = _BreakingBody(response["Body"], self._drop_after)
        return response


class _BreakingBody:
    def __init__(self, body: Any, limit: int) -> None:
        self._body = body
        self._left = limit

    def read(self, size: int) -> bytes:
        if self._left <= 0:
            raise ResponseStreamingError(error="connection reset by peer")
        data: bytes = self._body.read(min(size, self._left))
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._body.close()


def test_a_read_cut_off_mid_range_goes_on_where_it_stopped(client: Any) -> None:
    content = jsonl(3000)
    files(client).save(INPUT, io.BytesIO(content))
    dropping = DroppingClient(client, drop_after=100_000, drops=2)
    with S3JobFiles(dropping, BUCKET, read_range_bytes=MIB).open(INPUT) as stream:  # type: ignore[arg-type]
        assert stream.read() == content
    assert dropping.drops_left == 0


def test_a_file_replaced_under_a_reader_fails_the_read(client: Any) -> None:
    job_files = files(client, read_range_bytes=64 * 1024)
    job_files.save(INPUT, io.BytesIO(jsonl(2000)))
    with job_files.open(INPUT) as stream:
        stream.readline()
        job_files.save(INPUT, io.BytesIO(jsonl(2000, width=50)))
        stream.seek(0)
        with pytest.raises(ClientError) as refused:
            stream.read()
    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"


class GeneratedObject:
    """An S3 client serving one object of `size` bytes of JSON lines made on the fly: no
    object is ever held whole, by it or (the test checks) by the reader."""

    LINE = json.dumps({"sku": "S", "name": "n" * 1000}).encode() + b"\n"

    def __init__(self, size: int) -> None:
        self.size = size - size % len(self.LINE)

    def head_object(self, **params: Any) -> dict[str, Any]:
        return {"ContentLength": self.size, "ETag": '"generated"'}

    def get_object(self, *, Range: str, **params: Any) -> dict[str, Any]:
        first, last = (int(n) for n in Range.removeprefix("bytes=").split("-"))
        return {"Body": _GeneratedBody(self.LINE, first, last + 1)}


class _GeneratedBody:
    def __init__(self, line: bytes, start: int, end: int) -> None:
        self._line, self._position, self._end = line, start, end

    def read(self, size: int) -> bytes:
        size = min(size, self._end - self._position)
        offset = self._position % len(self._line)
        repeats = (offset + size) // len(self._line) + 1
        data = (self._line * repeats)[offset : offset + size]
        self._position += len(data)
        return data

    def close(self) -> None:
        pass


# Run in a fresh interpreter: tracemalloc's peak counts every thread's allocations, and this
# process holds moto's server and the clients of other tests.
MEASURE_PEAK = """
import json, tracemalloc
from catalog.adapters.aws.s3_job_files import MIB, S3JobFiles
from catalog.service.import_files import count_jsonl_rows, jsonl_rows
from tests.aws.test_s3_job_files import BUCKET, INPUT, GeneratedObject
source = GeneratedObject(200 * MIB)
job_files = S3JobFiles(source, BUCKET)
tracemalloc.start()
with job_files.open(INPUT) as stream:
    rows = count_jsonl_rows(stream)
    stream.seek(0)
    first = next(jsonl_rows(stream))
_, peak = tracemalloc.get_traced_memory()
print(json.dumps({"size": source.size, "rows": rows, "sku": first.sku, "peak": peak}))
"""


def test_memory_stays_flat_whatever_the_size_of_the_file() -> None:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE_PEAK],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout)
    assert measured["rows"] == measured["size"] // len(GeneratedObject.LINE)
    assert measured["sku"] == "S"
    # The 1 MiB buffer and a chunk being copied into it, against a 200 MiB file.
    assert measured["peak"] < 4 * MIB, measured


# ---------------------------------------------------------------------- outputs


def test_batches_written_then_finished_are_the_file_its_url_serves(client: Any) -> None:
    job_files = files(client)
    batches = [jsonl(20, width=n) for n in (10, 20, 30)]
    offset = 0
    for batch in batches:
        offset = job_files.write(EXPORT, offset, batch)
    assert offset == sum(map(len, batches))
    job_files.finish(EXPORT, offset)

    requests = Requests(client)
    url = job_files.download_url(EXPORT)
    assert requests.sends == 0  # signed locally
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == b"".join(batches)
    assert response.headers["content-type"] == "application/x-ndjson"
    assert 'filename="export.jsonl"' in response.headers["content-disposition"]


def test_a_resumed_job_cuts_the_file_back_to_what_it_committed(client: Any) -> None:
    first, lost, again = jsonl(20), jsonl(20, width=7), jsonl(15, width=9)
    files(client).write(EXPORT, 0, first)
    # A batch written, then the worker died before committing it: its part is there.
    files(client).write(EXPORT, len(first), lost)
    # The resumed run (another process, knowing only the committed size) writes that batch again.
    resumed = files(client)
    end = resumed.write(EXPORT, len(first), again)
    resumed.finish(EXPORT, end)
    assert stored(client, f"jobs/{EXPORT}") == first + again


def test_an_output_cut_back_at_its_end_finishes_without_the_lost_batch(client: Any) -> None:
    first = jsonl(20)
    job_files = files(client)
    job_files.write(EXPORT, 0, first)
    job_files.write(EXPORT, len(first), jsonl(3))  # never committed; nothing came after it
    files(client).finish(EXPORT, len(first))
    assert stored(client, f"jobs/{EXPORT}") == first


def test_an_empty_output_is_an_empty_file(client: Any) -> None:
    files(client).finish(EXPORT, 0)
    assert stored(client, f"jobs/{EXPORT}") == b""


def large_batches(count: int) -> list[bytes]:
    """`count` batches of 1 MiB, each of its own bytes."""
    return [bytes([65 + n % 26]) * MIB for n in range(count)]


def test_a_large_output_is_merged_as_it_grows_and_composed_in_s3(client: Any) -> None:
    batches = [*large_batches(12), b"the end\n"]
    job_files = files(client, segment_bytes=MIN_PART_BYTES)
    offset = 0
    for batch in batches:
        offset = job_files.write(EXPORT, offset, batch)
    # Merged every 5 MiB committed: two large parts, then the small ones after them.
    assert len(part_keys(client, EXPORT)) == 2 + 3

    requests = Requests(client)
    job_files.finish(EXPORT, offset)
    # The large parts were copied inside S3; only the tail went up from here, from the bytes
    # the instance had written (no GET).
    assert [name for name, _ in requests.sent] == [
        "ListObjectsV2",  # every part still the one written
        "CreateMultipartUpload",
        "UploadPartCopy",
        "UploadPartCopy",
        "UploadPart",
        "CompleteMultipartUpload",
    ]
    assert [len(p["Body"]) for p in requests.named("UploadPart")] == [2 * MIB + len(b"the end\n")]
    assert stored(client, f"jobs/{EXPORT}") == b"".join(batches)


def test_a_large_output_resumed_by_another_process_reads_its_tail_back(client: Any) -> None:
    batches = large_batches(8)
    writer = files(client, segment_bytes=MIN_PART_BYTES)
    offset = 0
    for batch in batches[:7]:
        offset = writer.write(EXPORT, offset, batch)
    # The next run knows the committed size only: it lists the parts, reads the small ones
    # back to merge them and goes on.
    resumed = files(client, segment_bytes=MIN_PART_BYTES)
    offset = resumed.write(EXPORT, offset, batches[7])
    more = large_batches(5)
    for batch in more:
        offset = resumed.write(EXPORT, offset, batch)
    files(client, segment_bytes=MIN_PART_BYTES).finish(EXPORT, offset)
    assert stored(client, f"jobs/{EXPORT}") == b"".join(batches + more)


def test_finishing_again_after_more_batches_gives_the_longer_file(client: Any) -> None:
    """A finish whose commit failed: the resumed run may find more to write, then finishes
    again."""
    job_files = files(client, segment_bytes=MIN_PART_BYTES)
    batches = large_batches(6)
    offset = 0
    for batch in batches:
        offset = job_files.write(EXPORT, offset, batch)
    job_files.finish(EXPORT, offset)
    later = files(client, segment_bytes=MIN_PART_BYTES)
    offset = later.write(EXPORT, offset, b"one more\n")
    later.finish(EXPORT, offset)
    assert stored(client, f"jobs/{EXPORT}") == b"".join(batches) + b"one more\n"


def test_discarding_the_parts_leaves_the_file(client: Any) -> None:
    job_files = files(client)
    end = job_files.write(EXPORT, 0, jsonl(5))
    end = job_files.write(EXPORT, end, jsonl(5))
    job_files.finish(EXPORT, end)
    job_files.discard_parts(EXPORT)
    assert part_keys(client, EXPORT) == []
    assert stored(client, f"jobs/{EXPORT}") == jsonl(5) + jsonl(5)


@pytest.mark.parametrize("replacement", [b"x" * 10, b"y" * len(jsonl(5))])
def test_a_part_another_run_replaced_is_never_composed_into_the_file(
    client: Any, replacement: bytes
) -> None:
    """Two runs of one job at once (a message delivered twice): the one whose commit failed
    had written its batch's part at the same offset."""
    winner = files(client)
    end = winner.write(EXPORT, 0, jsonl(5))
    end = winner.write(EXPORT, end, jsonl(5, width=30))
    files(client).write(EXPORT, len(jsonl(5)), replacement)  # the loser, same offset
    with pytest.raises(JobOutputBroken):
        winner.finish(EXPORT, end)
    with pytest.raises(ClientError):
        stored(client, f"jobs/{EXPORT}")  # no file rather than a wrong one


def test_parts_that_do_not_reach_the_committed_size_are_refused(client: Any) -> None:
    files(client).write(EXPORT, 0, jsonl(5))
    with pytest.raises(JobOutputBroken):
        files(client).write(EXPORT, 10 * len(jsonl(5)), jsonl(5))
    with pytest.raises(JobOutputBroken):
        files(client).finish(EXPORT, 3)


# ---------------------------------------------------------------------- OutputsWholeAtFinish


class WatchingStore(MemoryJobStore):
    """A job store that records, at each commit, what the job's file holds, and refuses the
    commits it is told to."""

    def __init__(self, client: Any, refuse: int = 0) -> None:
        super().__init__(MemoryStore())
        self.client = client
        self.refuse = refuse
        self.seen_at_commit: list[bytes | None] = []

    def commit_rows(
        self,
        job: Job,
        expected_version: int,
        changes: Sequence[Change],
        errors: Sequence[RowError],
        events: Sequence[DomainEvent] = (),
    ) -> None:
        try:
            self.seen_at_commit.append(stored(self.client, f"jobs/{job.output_key}"))
        except ClientError:
            self.seen_at_commit.append(None)
        if self.refuse:
            self.refuse -= 1
            raise RuntimeError("the store is unavailable")
        super().commit_rows(job, expected_version, changes, errors, events)


def export_job() -> Job:
    job = Job(
        id="01JE0000000000000000000001",
        merchant_id="acme",
        kind=JobKind.EXPORT,
        created_at=datetime(2026, 12, 3, tzinfo=UTC),
        params={"format": "jsonl"},
        started_by={},
    )
    job.output_key = EXPORT
    return job


def test_the_file_is_whole_before_the_commit_that_ends_the_job(client: Any) -> None:
    watching = WatchingStore(client)
    job_files = files(client)
    store = OutputsWholeAtFinish(watching, job_files)
    job = export_job()
    store.create_job(job)
    content = jsonl(20)
    job.output_bytes = job_files.write(EXPORT, 0, content)
    job.status, job.version = JobStatus.RUNNING, 2
    store.commit_rows(job, 1, [], [])
    job.status, job.finished_at, job.version = JobStatus.SUCCEEDED, job.created_at, 3
    store.commit_rows(job, 2, [], [])
    assert watching.seen_at_commit == [None, content]
    assert part_keys(client, EXPORT) == []  # gone once the end was committed


def test_a_failed_commit_of_the_end_keeps_the_parts(client: Any) -> None:
    watching = WatchingStore(client, refuse=1)
    job_files = files(client)
    store = OutputsWholeAtFinish(watching, job_files)
    job = export_job()
    store.create_job(job)
    job.output_bytes = job_files.write(EXPORT, 0, jsonl(3))
    job.status, job.finished_at, job.version = JobStatus.SUCCEEDED, job.created_at, 2
    with pytest.raises(RuntimeError):
        store.commit_rows(job, 1, [], [])
    assert len(part_keys(client, EXPORT)) == 1
    assert store.rows_per_batch == watching.rows_per_batch


def test_an_upload_ticket_takes_the_file_straight_to_the_job_files(client: Any) -> None:
    """A presigned POST (computed without a call) that S3 accepts for the key, the type and
    at most the size given; the job then reads the file as any other."""
    job_files = files(client)
    content = jsonl(50)
    requests = Requests(client)
    url, fields = job_files.upload_ticket(INPUT, "application/x-ndjson", len(content), 600)
    assert [name for name, _ in requests.sent if name != "CreateBucket"] == []
    # (moto does not enforce a POST policy's conditions: S3 does; they are in the fields.)
    assert "policy" in {name.lower() for name in fields}
    with pytest.raises(FileNotFoundError):
        job_files.open(INPUT).close()
    sent = httpx.post(url, data=fields, files={"file": ("f.jsonl", content)})
    assert sent.status_code in (200, 201, 204), sent.text
    with job_files.open(INPUT) as stream:
        assert [row.sku for row in jsonl_rows(stream)] == [f"SKU-{n}" for n in range(50)]
