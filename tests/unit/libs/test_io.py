"""libs.io: URI-addressed reads and writes, atomic local writes, one-line errors."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from libs.errors import InputError
from libs.io import (
    CorruptFileError,
    StorageNotFoundError,
    UnsafeKeyError,
    UnsupportedFormatError,
    digest,
    exists,
    join_key,
    read_bytes,
    read_json,
    read_table,
    write_bytes,
    write_json,
    write_table,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"x": [1.5, 2.0, -3.25], "n": [1, 2, 3], "c": ["a", "b", "a"]})


@pytest.fixture
def mem_root() -> Iterator[str]:
    """A fresh memory:// folder per test: the memory filesystem is process-global."""
    import fsspec

    root = f"memory://test-{uuid.uuid4().hex}"
    yield root
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# --- tables -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["t.csv", "t.parquet", "t.pq", "T.CSV"])
def test_table_round_trips_locally_and_digest_matches_written_bytes(
    tmp_path: Path, frame: pd.DataFrame, name: str
) -> None:
    # given
    target = tmp_path / name
    # when
    written = write_table(frame, str(target))
    back = read_table(str(target))
    # then
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert written == hashlib.sha256(target.read_bytes()).hexdigest()
    assert digest(str(target)) == written


def test_table_round_trips_through_file_uri(tmp_path: Path, frame: pd.DataFrame) -> None:
    # given
    uri = (tmp_path / "t.parquet").as_uri()
    # when
    write_table(frame, uri)
    # then
    assert uri.startswith("file://")
    pd.testing.assert_frame_equal(read_table(uri), frame)


@pytest.mark.parametrize("name", ["t.csv", "t.parquet"])
def test_table_round_trips_through_memory(mem_root: str, frame: pd.DataFrame, name: str) -> None:
    # given
    uri = f"{mem_root}/sub/{name}"
    # when
    written = write_table(frame, uri)
    # then
    pd.testing.assert_frame_equal(read_table(uri), frame, check_dtype=False)
    assert digest(uri) == written == hashlib.sha256(read_bytes(uri)).hexdigest()


def test_write_table_creates_parent_folders(tmp_path: Path, frame: pd.DataFrame) -> None:
    # given
    target = tmp_path / "a" / "b" / "t.csv"
    # when
    write_table(frame, str(target))
    # then
    assert target.is_file()


def test_write_table_does_not_write_the_index(tmp_path: Path) -> None:
    # given
    df = pd.DataFrame({"v": [1, 2]}, index=[10, 20])
    # when
    write_table(df, str(tmp_path / "t.csv"))
    # then
    assert list(read_table(str(tmp_path / "t.csv")).columns) == ["v"]


def test_same_table_gives_same_digest(tmp_path: Path, frame: pd.DataFrame) -> None:
    # given / when
    first = write_table(frame, str(tmp_path / "a.parquet"))
    second = write_table(frame.copy(), str(tmp_path / "b.parquet"))
    # then
    assert first == second


def test_read_missing_file_names_it(tmp_path: Path) -> None:
    # given
    uri = str(tmp_path / "missing.csv")
    # when / then
    with pytest.raises(StorageNotFoundError, match=f"^file not found: {re.escape(uri)}$") as caught:
        read_table(uri)
    assert isinstance(caught.value, InputError)


def test_read_missing_memory_object_names_it(mem_root: str) -> None:
    # given
    uri = f"{mem_root}/missing.parquet"
    # when / then
    with pytest.raises(StorageNotFoundError, match="file not found: memory://"):
        read_table(uri)


@pytest.mark.parametrize("name", ["data.xlsx", "data", "data.csv.gz"])
def test_unsupported_extension_is_refused_on_read_and_write(
    tmp_path: Path, frame: pd.DataFrame, name: str
) -> None:
    # given
    uri = str(tmp_path / name)
    # when / then
    with pytest.raises(UnsupportedFormatError, match=r"\.csv, \.parquet, \.pq") as caught:
        write_table(frame, uri)
    assert name in str(caught.value)
    assert not (tmp_path / name).exists()
    with pytest.raises(UnsupportedFormatError, match="unsupported table format"):
        read_table(uri)


def test_truncated_parquet_is_corrupt_and_named(tmp_path: Path, frame: pd.DataFrame) -> None:
    # given
    target = tmp_path / "t.parquet"
    write_table(frame, str(target))
    target.write_bytes(target.read_bytes()[:-20])
    # when / then
    with pytest.raises(CorruptFileError, match="cannot parse Parquet") as caught:
        read_table(str(target))
    message = str(caught.value)
    assert str(target) in message
    assert "\n" not in message


def test_malformed_csv_is_corrupt_with_parser_reason(tmp_path: Path) -> None:
    # given
    target = tmp_path / "bad.csv"
    target.write_text("a,b\n1,2\n3,4,5,6\n")
    # when / then
    with pytest.raises(CorruptFileError, match=r"bad\.csv: cannot parse CSV: .*Expected 2 fields"):
        read_table(str(target))


def test_csv_that_is_not_utf8_is_corrupt(tmp_path: Path) -> None:
    # given
    target = tmp_path / "bin.csv"
    target.write_bytes(b"\xff\xfe\x00a,b\n")
    # when / then
    with pytest.raises(CorruptFileError, match=r"bin\.csv: cannot parse CSV"):
        read_table(str(target))


@pytest.mark.parametrize("content", [b"", b"a,b\n"], ids=["empty-file", "header-only"])
def test_empty_csv_is_an_input_error(tmp_path: Path, content: bytes) -> None:
    # given
    target = tmp_path / "e.csv"
    target.write_bytes(content)
    # when / then
    with pytest.raises(InputError, match=f"^{re.escape(str(target))}: table is empty$"):
        read_table(str(target))


def test_parquet_with_no_rows_is_an_input_error(tmp_path: Path, frame: pd.DataFrame) -> None:
    # given
    target = tmp_path / "e.parquet"
    write_table(frame.iloc[0:0], str(target))
    # when / then
    with pytest.raises(InputError, match=r"e\.parquet: table is empty"):
        read_table(str(target))


def test_parquet_that_cannot_be_serialized_writes_nothing(tmp_path: Path) -> None:
    # given
    df = pd.DataFrame({"mixed": [1, "x"]}, dtype=object)
    target = tmp_path / "m.parquet"
    # when / then
    with pytest.raises(InputError, match=r"m\.parquet: cannot write as Parquet"):
        write_table(df, str(target))
    assert list(tmp_path.iterdir()) == []


def test_write_table_refuses_a_non_frame(tmp_path: Path) -> None:
    # when / then
    with pytest.raises(TypeError, match="DataFrame"):
        write_table({"a": [1]}, str(tmp_path / "t.csv"))  # type: ignore[arg-type]


# --- json and bytes ---------------------------------------------------------------------------


def test_json_round_trips_and_digest_ignores_key_order(tmp_path: Path) -> None:
    # given
    doc = {"b": [1, 2.5, None], "a": {"z": "ü", "y": True}}
    reordered = {"a": {"y": True, "z": "ü"}, "b": [1, 2.5, None]}
    # when
    first = write_json(doc, str(tmp_path / "a.json"))
    second = write_json(reordered, str(tmp_path / "b.json"))
    # then
    assert read_json(str(tmp_path / "a.json")) == doc
    assert first == second == digest(str(tmp_path / "a.json"))


def test_corrupt_json_names_file(mem_root: str) -> None:
    # given
    uri = f"{mem_root}/bad.json"
    write_bytes(b'{"a": 1', uri)
    # when / then
    with pytest.raises(CorruptFileError, match=r"bad\.json: cannot parse JSON"):
        read_json(uri)


def test_bytes_round_trip_returns_sha256(tmp_path: Path) -> None:
    # given
    data = b"\x00\x01payload"
    # when
    written = write_bytes(data, str(tmp_path / "blob.bin"))
    # then
    assert read_bytes(str(tmp_path / "blob.bin")) == data
    assert written == hashlib.sha256(data).hexdigest()


def test_write_bytes_refuses_text(tmp_path: Path) -> None:
    # when / then
    with pytest.raises(TypeError, match="bytes"):
        write_bytes("text", str(tmp_path / "x.bin"))  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_digest_streams_objects_larger_than_one_chunk(tmp_path: Path) -> None:
    # given
    data = os.urandom(3 * (1 << 20) + 17)
    (tmp_path / "big.bin").write_bytes(data)
    # when
    result = digest(str(tmp_path / "big.bin"))
    # then
    assert result == hashlib.sha256(data).hexdigest()


def test_digest_of_missing_object_names_it(tmp_path: Path) -> None:
    # when / then
    with pytest.raises(StorageNotFoundError, match=r"file not found: .*nope\.bin$"):
        digest(str(tmp_path / "nope.bin"))


def test_exists_says_whether_an_object_is_there(tmp_path: Path, mem_root: str) -> None:
    # given
    write_bytes(b"1", str(tmp_path / "here.bin"))
    write_bytes(b"1", f"{mem_root}/here.bin")
    # when / then
    assert exists(str(tmp_path / "here.bin"))
    assert not exists(str(tmp_path / "gone.bin"))
    assert exists(f"{mem_root}/here.bin")
    assert not exists(f"{mem_root}/gone.bin")


def test_unknown_protocol_is_an_input_error_naming_the_uri() -> None:
    # when / then
    with pytest.raises(InputError, match=r"^nosuch://b/k\.csv: unsupported storage URI"):
        read_bytes("nosuch://b/k.csv")


@pytest.mark.parametrize("uri", ["", "   "])
def test_blank_uri_is_an_input_error(uri: str) -> None:
    # when / then
    with pytest.raises(InputError, match="non-empty string"):
        read_bytes(uri)


# --- atomic local writes ----------------------------------------------------------------------


def test_overwrite_replaces_content(tmp_path: Path) -> None:
    # given
    target = tmp_path / "x.bin"
    write_bytes(b"old", str(target))
    # when
    write_bytes(b"new", str(target))
    # then
    assert target.read_bytes() == b"new"
    assert _leftovers(tmp_path) == []


def test_failed_write_keeps_old_content_and_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the disk fails while the new bytes are flushed
    target = tmp_path / "x.bin"
    write_bytes(b"old", str(target))

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    # when
    with pytest.raises(OSError, match="No space left"):
        write_bytes(b"new content", str(target))
    # then
    assert target.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_failed_first_write_leaves_no_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, frame: pd.DataFrame
) -> None:
    # given
    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    # when
    with pytest.raises(OSError):
        write_table(frame, str(tmp_path / "t.parquet"))
    # then
    assert list(tmp_path.iterdir()) == []


def test_writing_onto_a_folder_is_an_input_error_and_cleans_up(tmp_path: Path) -> None:
    # given
    folder = tmp_path / "taken.csv"
    (folder / "inside").mkdir(parents=True)
    # when / then
    with pytest.raises(InputError, match=r"taken\.csv: is a directory"):
        write_bytes(b"1", str(folder))
    assert _leftovers(tmp_path) == []


def test_reading_a_folder_is_an_input_error(tmp_path: Path) -> None:
    # given
    (tmp_path / "d.csv").mkdir()
    # when / then
    with pytest.raises(InputError, match=r"d\.csv: is a directory"):
        read_table(str(tmp_path / "d.csv"))


@pytest.mark.skipif(os.name != "posix", reason="file modes and umask are POSIX")
def test_written_file_gets_the_mode_of_a_plain_open(tmp_path: Path) -> None:
    # given
    plain = tmp_path / "plain.bin"
    plain.write_bytes(b"1")
    # when
    write_bytes(b"1", str(tmp_path / "atomic.bin"))
    # then
    assert (tmp_path / "atomic.bin").stat().st_mode == plain.stat().st_mode


# --- join_key ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("root", "key", "expected"),
    [
        ("/data/store", "runs/1/t.csv", "/data/store/runs/1/t.csv"),
        ("/data/store/", "t.csv", "/data/store/t.csv"),
        ("relative/dir", "t.csv", "relative/dir/t.csv"),
        ("file:///data", "a/b.json", "file:///data/a/b.json"),
        ("s3://bucket/prefix", "a/./b.csv", "s3://bucket/prefix/a/b.csv"),
        ("s3://bucket", "a//b.csv", "s3://bucket/a/b.csv"),
        ("memory://x", "y.parquet", "memory://x/y.parquet"),
        ("memory://", "y.parquet", "memory://y.parquet"),
        ("/", "t.csv", "/t.csv"),
    ],
)
def test_join_key_joins_root_and_key(root: str, key: str, expected: str) -> None:
    # when / then
    assert join_key(root, key) == expected


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("../escape.csv", "'..'"),
        ("a/../../escape.csv", "'..'"),
        ("a/..", "'..'"),
        ("a\\..\\..\\escape.csv", "'..'"),
        ("/etc/passwd", "absolute path"),
        ("\\\\server\\share", "absolute path"),
        ("s3://other-bucket/x", "URI scheme"),
        ("file:///etc/passwd", "URI scheme"),
        ("C:\\Windows\\x", "URI scheme"),
        ("", "non-empty"),
        ("./", "names no object"),
    ],
)
def test_join_key_refuses_unsafe_keys(key: str, problem: str) -> None:
    # when / then
    with pytest.raises(UnsafeKeyError, match="storage key") as caught:
        join_key("s3://bucket/prefix", key)
    assert problem in str(caught.value)
    assert isinstance(caught.value, InputError)


def test_join_key_refuses_an_empty_root() -> None:
    # when / then
    with pytest.raises(InputError, match="storage root"):
        join_key("", "a.csv")


def test_join_key_result_round_trips(mem_root: str) -> None:
    # given
    uri = join_key(mem_root, "nested/k.json")
    # when
    write_json({"k": 1}, uri)
    # then
    assert read_json(uri) == {"k": 1}


# --- s3 through a local S3 protocol server ----------------------------------------------------


@pytest.fixture(scope="module")
def s3_options() -> Iterator[dict[str, object]]:
    """A moto S3 server on a loopback port; storage_options point s3fs at it."""
    pytest.importorskip("s3fs", reason="s3fs (the aws extra) is not installed")
    server_module = pytest.importorskip("moto.server", reason="moto (the dev extra) is missing")
    boto3 = pytest.importorskip("boto3", reason="boto3 (the aws extra) is not installed")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    creds = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **creds).create_bucket(
        Bucket="unit-bucket"
    )
    yield {
        "key": "test",
        "secret": "test",
        "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"},
    }
    server.stop()


def test_s3_round_trip_with_storage_options(
    s3_options: dict[str, object], frame: pd.DataFrame
) -> None:
    # given
    uri = join_key("s3://unit-bucket/prefix", "t.parquet")
    # when
    written = write_table(frame, uri, storage_options=s3_options)
    # then
    pd.testing.assert_frame_equal(read_table(uri, storage_options=s3_options), frame)
    assert digest(uri, storage_options=s3_options) == written
    assert exists(uri, storage_options=s3_options)


def test_s3_missing_object_and_bucket_are_named(s3_options: dict[str, object]) -> None:
    # when / then
    with pytest.raises(StorageNotFoundError, match=r"^file not found: s3://unit-bucket/nope\.csv$"):
        read_table("s3://unit-bucket/nope.csv", storage_options=s3_options)
    with pytest.raises(StorageNotFoundError, match=r"s3://no-such-bucket/t\.csv"):
        write_bytes(b"1", "s3://no-such-bucket/t.csv", storage_options=s3_options)


# --- layering ---------------------------------------------------------------------------------


def test_importing_libs_io_loads_no_orchestration_and_no_s3_client() -> None:
    # given: a fresh interpreter, so modules loaded by other tests do not count
    code = (
        "import sys, libs.io; "
        "print(sorted(m for m in ('prefect', 'mlflow', 's3fs') if m in sys.modules))"
    )
    # when
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    # then
    assert done.stdout.strip() == "[]"
