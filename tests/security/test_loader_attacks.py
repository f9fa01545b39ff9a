"""Attacks on `carepool load`: a file that hangs it, fools it, floods it or echoes what it
should not. Each is refused early, with a message naming the file and the limit broken, and
the warehouse is left as it was."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from carepool.errors import LoadRejected
from carepool.warehouse import read_warehouse_table
from carepool.warehouse.loading import files, load_file
from carepool.warehouse.schemas import TABLES
from tests.warehouse.test_loader import reject, valid_rows, write_csv

#: How long any refusal may take before the loader counts as hung.
HANG_SECONDS = 20


def messages(rejected: LoadRejected) -> str:
    """Everything a rejection prints: its summary and each problem."""
    return "\n".join([str(rejected), *(str(problem) for problem in rejected.problems)])


def load_in_thread(table: str, path: Path, warehouse: Path) -> BaseException | None:
    """Load in a thread, so a loader that blocks fails the test instead of hanging it."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            load_file(table, path, warehouse)
            outcome.append(None)
        except BaseException as exc:  # handed to the test
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(HANG_SECONDS)
    if worker.is_alive():  # unblock a reader stuck on a FIFO, then fail
        with contextlib.suppress(OSError):
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(5)
        pytest.fail(f"loading {path.name} hung for {HANG_SECONDS} s")
    return outcome[0]


# --- the file's type, before it is opened ---------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_refused_without_being_opened(warehouse: Path, tmp_path: Path) -> None:
    pipe = tmp_path / "extract.csv"
    os.mkfifo(pipe)
    caught = load_in_thread("residents", pipe, warehouse)
    assert isinstance(caught, LoadRejected)
    assert caught.problems[0].message == "is a named pipe (FIFO), not a regular file; not read"


def test_a_symlink_is_refused_and_its_target_never_read_or_named(
    warehouse: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "private" / "shadow-copy.txt"
    secret.parent.mkdir()
    secret.write_text("root:TOP-SECRET-HASH:19000\nsecond-line-of-secret\n")
    link = tmp_path / "extract.csv"
    link.symlink_to(secret)
    rejected = reject("residents", link, warehouse)
    text = messages(rejected)
    assert "symbolic link" in text
    for leaked in ("TOP-SECRET", "second-line", "shadow-copy", "private"):
        assert leaked not in text


def test_a_symlink_to_a_device_is_refused_without_reading_it(
    warehouse: Path, tmp_path: Path
) -> None:
    link = tmp_path / "extract.csv"
    link.symlink_to("/dev/zero")  # endless: hashing it never finishes
    caught = load_in_thread("residents", link, warehouse)
    assert isinstance(caught, LoadRejected)
    assert "symbolic link" in caught.problems[0].message


def test_a_directory_is_refused_as_a_directory(warehouse: Path, tmp_path: Path) -> None:
    folder = tmp_path / "extract.csv"
    folder.mkdir()
    (problem,) = reject("residents", folder, warehouse).problems
    assert problem.message == "is a directory, not a regular file; not read"


# --- one read: what is recorded is what was loaded ------------------------------------------


def test_the_digest_recorded_is_of_the_bytes_loaded(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is swapped for another of the same size and time after it was first read: the
    load must be of the bytes whose digest is recorded."""
    rows = valid_rows(TABLES["residents"], 4)
    path = write_csv(tmp_path / "r.csv", rows)
    original = path.read_bytes()
    swapped = original.replace(b"E01005001", b"E01005002")
    assert swapped != original
    assert len(swapped) == len(original)
    real_read = files.read

    def swap_then_read(*args: Any, **kwargs: Any) -> Any:
        info = path.stat()
        path.write_bytes(swapped)
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
        return real_read(*args, **kwargs)

    monkeypatch.setattr("carepool.warehouse.loading.validation.read", swap_then_read)
    result = load_file("residents", path, warehouse)
    manifest = json.loads((warehouse / "manifest.json").read_text())
    assert result.sha256 == manifest["tables"]["residents"]["sha256"]
    assert result.sha256 == hashlib.sha256(original).hexdigest()
    loaded = read_warehouse_table(warehouse, "residents").column("lsoa21_code").to_pylist()
    assert loaded == [row["lsoa21_code"] for row in rows]


# --- limits, enforced before the work they bound --------------------------------------------


def test_a_wide_header_is_refused_before_any_column_is_checked(
    warehouse: Path, tmp_path: Path
) -> None:
    path = tmp_path / "wide.csv"
    width = 5 * files.MAX_COLUMNS
    path.write_text(",".join(f"c{i}" for i in range(width)) + "\n" + "1," * (width - 1) + "1\n")
    started = time.monotonic()
    (problem,) = reject("residents", path, warehouse).problems
    assert time.monotonic() - started < 5
    assert problem.source == "wide.csv"
    assert problem.message == f"has {width:,} columns in its header; the limit is 1,000"


def test_a_long_header_line_is_refused(warehouse: Path, tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_bytes(b"x" * (files.MAX_HEADER_BYTES + 10) + b"\n1\n")
    (problem,) = reject("residents", path, warehouse).problems
    assert problem.message == "has a header line longer than the limit of 65,536 bytes"


def test_a_file_over_the_size_limit_is_refused_unread(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "big.csv", valid_rows(TABLES["residents"], 20))
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 100, raising=False)
    (problem,) = reject("residents", path, warehouse).problems
    assert problem.message.startswith("is larger than the limit of 100 bytes")


def test_too_many_rows_are_refused(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "rows.csv", valid_rows(TABLES["residents"], 20))
    pq.write_table(pa.table({"person_id": list(range(20))}), tmp_path / "rows.parquet")
    monkeypatch.setattr(files, "MAX_ROWS", 10, raising=False)
    (problem,) = reject("residents", path, warehouse).problems
    assert problem.message == "has 20 lines after its header; the limit is 10 rows"
    (problem,) = reject("residents", tmp_path / "rows.parquet", warehouse).problems
    assert problem.message == "has 20 rows; the limit is 10"


def test_a_parquet_file_that_expands_is_refused_from_its_metadata(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Zeros compress to almost nothing: the metadata's uncompressed size gives them away."""
    path = tmp_path / "bomb.parquet"
    zeros = pa.table({"person_id": pa.array([0] * 500_000, pa.int64())})
    pq.write_table(zeros, path, use_dictionary=False, compression="zstd")
    assert path.stat().st_size < 100_000
    monkeypatch.setattr(files, "MAX_EXPANDED_BYTES", 1024**2, raising=False)
    monkeypatch.setattr(pq.ParquetFile, "iter_batches", _no_data_read)
    (problem,) = reject("residents", path, warehouse).problems
    assert problem.message.startswith("expands to 4,0")
    assert problem.message.endswith("bytes uncompressed; the limit is 1,048,576 bytes")


def test_a_parquet_file_that_expands_past_its_metadata_is_stopped_while_decoding(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One long value repeated is a dictionary of one and a run of indices: the metadata says
    little, so the decoded size is counted as it grows."""
    path = tmp_path / "dictionary.parquet"
    pq.write_table(pa.table({"sex": ["x" * 1_000] * 100_000}), path, use_dictionary=True)
    monkeypatch.setattr(files, "MAX_EXPANDED_BYTES", 1024**2, raising=False)
    (problem,) = reject("residents", path, warehouse).problems
    assert problem.message.startswith("expands to at least ")
    assert problem.message.endswith("the limit is 1,048,576 bytes")


def _no_data_read(*_args: Any, **_kwargs: Any) -> Any:
    raise AssertionError("data were read before the file's metadata was checked")


# --- nothing echoed, nothing unescaped ------------------------------------------------------


def test_control_characters_in_names_and_cells_are_escaped(warehouse: Path, tmp_path: Path) -> None:
    rows = valid_rows(TABLES["residents"], 3)
    rows[1]["sex"] = "\x1b]0;owned\x07\x1b[2J"
    rows[2]["evil\x1b[31mcolumn\u202e"] = "x"
    path = write_csv(tmp_path / "evil\x1b[1m\rname.csv", rows, header=[*rows[2]])
    rejected = reject("residents", path, warehouse)
    text = messages(rejected)
    assert all(char.isprintable() for char in text.replace("\n", ""))
    assert "evil\\x1b[1m\\x0dname.csv" in text
    assert "evil\\x1b[31mcolumn\\u202e" in text
    assert "\\x1b]0;owned\\x07" in text


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_binary_file_is_refused_without_echoing_it(warehouse: Path, tmp_path: Path) -> None:
    header = ",".join(TABLES["residents"].names).encode()
    cases = {
        "binary.csv": b"\x00\xff\xfe\x1b[2JSECRET-MARKER\x07" + os.urandom(512),
        "rows.csv": header + b"\n\x1b[2J\xffSECRET-MARKER,\x00\x07\n" + os.urandom(512),
        "binary.parquet": b"PAR1\x1b[2JSECRET-MARKER\x00" + os.urandom(512) + b"PAR1",
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        text = messages(reject("residents", path, warehouse))
        assert "SECRET-MARKER" not in text, name
        assert all(char.isprintable() for char in text.replace("\n", "")), name


# --- orphans ----------------------------------------------------------------------------------


def test_person_years_with_no_residents_to_refer_to_are_refused(
    warehouse: Path, tmp_path: Path
) -> None:
    (warehouse / "residents.parquet").unlink()
    path = write_csv(tmp_path / "py.csv", valid_rows(TABLES["person_year"], 3))
    (problem,) = reject("person_year", path, warehouse).problems
    assert "no residents table" in problem.message


def test_person_years_of_someone_not_a_resident_are_refused(
    warehouse: Path, tmp_path: Path
) -> None:
    rows = valid_rows(TABLES["person_year"], 3)
    rows[1]["person_id"] = 999_999
    path = write_csv(tmp_path / "py.csv", rows)
    (problem,) = reject("person_year", path, warehouse).problems
    assert (problem.row, problem.column) == (2, "person_id")
    assert "999999 is not a resident" in problem.message
