"""libs.io.chunks: chunked reads of CSV and Parquet, and all-or-nothing chunked writes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from libs.errors import InputError
from libs.io import (
    ChunkWriter,
    CorruptFileError,
    StorageNotFoundError,
    iter_table,
    parquet_metadata,
    read_table,
    table_rows,
    transform_table,
    write_table,
)


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "x": rng.normal(size=1050),
            "n": np.arange(1050),
            "c": rng.choice(["a", "b"], 1050),
        }
    )


@pytest.fixture
def mem_root() -> Iterator[str]:
    import fsspec

    root = f"memory://chunks-{uuid.uuid4().hex}"
    yield root
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_iter_table_yields_bounded_chunks_that_concatenate_to_the_table(
    frame: pd.DataFrame, tmp_path: Path, suffix: str
) -> None:
    # given
    uri = str(tmp_path / f"t.{suffix}")
    write_table(frame, uri)
    # when
    chunks = list(iter_table(uri, 100))
    # then
    assert [len(c) for c in chunks] == [100] * 10 + [50]
    whole = pd.concat(chunks, ignore_index=True)
    pd.testing.assert_frame_equal(whole, read_table(uri), check_dtype=False)


def test_table_rows_reads_parquet_metadata_and_is_none_for_csv(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    write_table(frame, str(tmp_path / "t.parquet"))
    write_table(frame, str(tmp_path / "t.csv"))
    assert table_rows(str(tmp_path / "t.parquet")) == 1050
    assert table_rows(str(tmp_path / "t.csv")) is None


def test_csv_dtype_pins_keep_a_text_column_text_in_an_all_empty_chunk(tmp_path: Path) -> None:
    # given: the second chunk of 'c' is empty
    path = tmp_path / "gaps.csv"
    path.write_text("x,c\n1,a\n2,b\n3,\n4,\n")
    # when
    loose = list(iter_table(str(path), 2))
    pinned = list(iter_table(str(path), 2, dtype={"c": "str"}))
    # then
    assert loose[1]["c"].dtype == "float64"
    assert pd.api.types.is_string_dtype(pinned[1]["c"])


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_empty_missing_and_corrupt_tables_are_one_line_errors(tmp_path: Path, suffix: str) -> None:
    # given
    empty = tmp_path / f"empty.{suffix}"
    if suffix == "csv":
        empty.write_text("a,b\n")
    else:
        pd.DataFrame({"a": pd.Series([], dtype=float)}).to_parquet(empty)
    corrupt = tmp_path / f"corrupt.{suffix}"
    corrupt.write_bytes(b"PAR1\x00garbage" if suffix == "parquet" else b'a,b\n1,"unclosed\n')
    # then
    with pytest.raises(InputError, match="table is empty"):
        list(iter_table(str(empty), 10))
    with pytest.raises(StorageNotFoundError, match="file not found"):
        list(iter_table(str(tmp_path / f"nope.{suffix}"), 10))
    with pytest.raises(CorruptFileError, match="cannot parse"):
        list(iter_table(str(corrupt), 10))
    with pytest.raises(InputError, match="chunk_rows"):
        list(iter_table(str(empty), 0))


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_chunk_writer_appends_chunks_and_publishes_on_exit(
    frame: pd.DataFrame, tmp_path: Path, suffix: str
) -> None:
    # given
    uri = str(tmp_path / "out" / f"scored.{suffix}")
    # when
    with ChunkWriter(uri, metadata={"mlops.model_name": "m"}) as writer:
        for start in range(0, len(frame), 300):
            writer.write(frame.iloc[start : start + 300])
            assert not Path(uri).exists()  # nothing visible until every chunk is in
    # then
    assert writer.rows == 1050
    pd.testing.assert_frame_equal(read_table(uri), frame, check_dtype=False)
    assert _files(tmp_path / "out") == [f"scored.{suffix}"]
    if suffix == "parquet":
        assert parquet_metadata(uri) == {"mlops.model_name": "m"}


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_failure_mid_write_leaves_no_output_and_keeps_an_old_one(
    frame: pd.DataFrame, tmp_path: Path, suffix: str
) -> None:
    # given: an earlier output at the same URI
    uri = tmp_path / f"scored.{suffix}"
    write_table(frame.head(3), str(uri))
    before = uri.read_bytes()
    calls = 0

    def fail_on_third_chunk(chunk: pd.DataFrame) -> pd.DataFrame:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("model crashed")
        return chunk

    source = str(tmp_path / "in.parquet")
    write_table(frame, source)
    # when
    with pytest.raises(RuntimeError, match="model crashed"):
        transform_table(source, str(uri), fail_on_third_chunk, chunk_rows=100)
    # then: the old output is untouched and no temporary file is left
    assert uri.read_bytes() == before
    assert _files(tmp_path) == ["in.parquet", f"scored.{suffix}"]


def test_failure_mid_write_to_a_fresh_uri_leaves_nothing(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    # given
    source = str(tmp_path / "in.csv")
    write_table(frame, source)

    def boom(chunk: pd.DataFrame) -> pd.DataFrame:
        if chunk["n"].iloc[0] >= 500:
            raise ValueError("bad chunk")
        return chunk

    # when
    with pytest.raises(ValueError, match="bad chunk"):
        transform_table(source, str(tmp_path / "out.parquet"), boom, chunk_rows=250)
    # then
    assert _files(tmp_path) == ["in.csv"]


def test_transform_table_in_chunks_equals_one_pass(frame: pd.DataFrame, tmp_path: Path) -> None:
    # given
    source = str(tmp_path / "in.parquet")
    write_table(frame, source)

    def double(chunk: pd.DataFrame) -> pd.DataFrame:
        return chunk.assign(y=chunk["x"] * 2)

    # when
    small = transform_table(source, str(tmp_path / "small.parquet"), double, chunk_rows=64)
    large = transform_table(source, str(tmp_path / "large.parquet"), double, chunk_rows=10_000)
    # then
    assert small == large == 1050
    pd.testing.assert_frame_equal(
        read_table(str(tmp_path / "small.parquet")), read_table(str(tmp_path / "large.parquet"))
    )


def test_remote_writes_go_through_a_temporary_key(frame: pd.DataFrame, mem_root: str) -> None:
    # given
    import fsspec

    fs = fsspec.filesystem("memory")
    uri = f"{mem_root}/out/scored.parquet"
    # when: one failing write, then one that succeeds
    with pytest.raises(RuntimeError), ChunkWriter(uri) as writer:
        writer.write(frame.head(10))
        raise RuntimeError("interrupted")
    after_failure = fs.exists(uri)
    with ChunkWriter(uri) as writer:
        writer.write(frame)
    # then
    assert not after_failure
    assert [p.rsplit("/", 1)[-1] for p in fs.ls(f"{mem_root}/out", detail=False)] == [
        "scored.parquet"
    ]
    pd.testing.assert_frame_equal(read_table(uri), frame)


def test_chunks_with_other_columns_are_refused(frame: pd.DataFrame, tmp_path: Path) -> None:
    uri = tmp_path / "out.csv"
    with pytest.raises(InputError, match="differ from the first"), ChunkWriter(str(uri)) as w:
        w.write(frame.head(2))
        w.write(frame.head(2).rename(columns={"x": "z"}))
    assert not uri.exists()


def test_unsupported_output_format_is_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unsupported table format"):
        ChunkWriter(str(tmp_path / "out.xlsx"))
    assert _files(tmp_path) == []
