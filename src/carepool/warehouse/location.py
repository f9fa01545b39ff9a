"""Where a warehouse is: a local folder, or a folder named by a URL that Spark can read.

``CAREPOOL_WAREHOUSE_URL`` (:class:`carepool.config.Settings`) may be a path, a ``file://``
URL, or an object store's or cluster file system's URL (``s3://``, ``s3a://``, ``gs://``,
``abfss://``, ``hdfs://``). A path, or a ``file://`` URL, is a folder like any other:
carepool builds, loads and reads it. Any other URL is read only: the manifest is read
through Arrow's file systems (:mod:`pyarrow.fs`), and the tables by the engine -- Spark,
through its Hadoop file systems, for object storage; DuckDB only where the URL is a local
``file://`` one. Building writes a local folder, committed by renames that object stores do
not make atomic: build where the machine has a disk, then copy the folder to the store
(``aws s3 sync``, ``gsutil rsync``).

A ``file://`` URL takes the URL's road through this module, so the tests exercise it with
local folders; only the file system behind it differs for ``s3://``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.fs as pafs

from carepool.config import Settings, is_drive, local_path
from carepool.errors import ConfigError, WarehouseError

#: The URL schemes a warehouse may be read from, and the scheme Spark's Hadoop file systems
#: know each by (S3 is ``s3a`` to Hadoop, ``s3`` to Arrow).
SPARK_SCHEMES = {
    "file": "file",
    "s3": "s3a",
    "s3a": "s3a",
    "gs": "gs",
    "abfs": "abfs",
    "abfss": "abfss",
    "hdfs": "hdfs",
}
ARROW_SCHEMES = {"s3a": "s3"}

#: A warehouse's location: a local folder, or a URL (``scheme://...``).
Location = Path | str


def parse_location(text: str) -> Location:
    """``CAREPOOL_WAREHOUSE_URL`` as a local folder (a path) or a URL with a known scheme,
    without its trailing slashes."""
    text = text.strip()
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if not scheme or is_drive(scheme):
        return Path(text)
    if scheme not in SPARK_SCHEMES:
        raise ConfigError(
            f"CAREPOOL_WAREHOUSE_URL={text!r}: expected a path or a URL beginning "
            f"{', '.join(f'{s}://' for s in SPARK_SCHEMES)}"
        )
    if scheme == "file":
        local_path(text)  # refuses another host, a query, a fragment or a relative path
    elif parts.query or parts.fragment:
        raise ConfigError(
            f"CAREPOOL_WAREHOUSE_URL={text!r}: expected the warehouse folder's URL, without a "
            "query or fragment"
        )
    # the text as given (read by local_path, as the writers read it), less trailing slashes;
    # the root keeps its own
    stripped = text.rstrip("/")
    return stripped if urlsplit(stripped).path or scheme != "file" else text


def location_of(settings: Settings) -> Location:
    """Where ``settings`` say the warehouse is read from: the data directory's ``warehouse``
    folder, or ``CAREPOOL_WAREHOUSE_URL``."""
    if not settings.warehouse_url:
        return settings.data_dir / "warehouse"
    return parse_location(settings.warehouse_url)


def local_folder(location: Location) -> Path | None:
    """The local folder a location is (a path, or a ``file://`` URL), else None."""
    return location if isinstance(location, Path) else local_path(location)


def join(location: Location, name: str) -> Location:
    """``name`` (a file or folder of the warehouse) within ``location``."""
    return location / name if isinstance(location, Path) else f"{location.rstrip('/')}/{name}"


def _filesystem(url: str) -> tuple[pafs.FileSystem, str]:
    parts = urlsplit(url)
    scheme = ARROW_SCHEMES.get(parts.scheme.lower(), parts.scheme.lower())
    try:
        found: tuple[pafs.FileSystem, str] = pafs.FileSystem.from_uri(
            parts._replace(scheme=scheme).geturl()
        )
    except Exception as exc:  # Arrow without that file system, or a malformed URL
        raise ConfigError(f"{url}: cannot open its file system ({exc})") from None
    return found


def read_text(location: Location, name: str) -> str | None:
    """The text of file ``name`` of the warehouse, or None when it has none."""
    if isinstance(location, Path):
        path = location / name
        return path.read_text(encoding="utf-8") if path.is_file() else None
    filesystem, root = _filesystem(location)
    target = f"{root}/{name}"
    try:
        if filesystem.get_file_info(target).type != pafs.FileType.File:
            return None
        with filesystem.open_input_stream(target) as stream:
            data: bytes = stream.read()
    except OSError as exc:
        raise WarehouseError(f"{location}/{name}: cannot be read ({exc})") from None
    return data.decode("utf-8")


def kind(location: Location) -> str | None:
    """``file`` or ``folder`` for what is at ``location``; None when nothing is."""
    if isinstance(location, Path):
        if location.is_dir():
            return "folder"
        return "file" if location.is_file() else None
    filesystem, path = _filesystem(location)
    try:
        found = filesystem.get_file_info(path).type
    except OSError as exc:
        raise WarehouseError(f"{location}: cannot be read ({exc})") from None
    return {pafs.FileType.File: "file", pafs.FileType.Directory: "folder"}.get(found)


def spark_url(location: Location) -> str:
    """The location as Spark's Hadoop file systems name it (``s3://`` becomes ``s3a://``)."""
    folder = local_folder(location)  # a path, or a file: URL as the writers read it
    if folder is not None:
        # a URI, not a bare path, which a cluster resolves against its default file system
        # (``fs.defaultFS``, HDFS on YARN); not percent-encoded, as Hadoop's paths are not;
        # absolute, not resolved: the executors see the path the driver was given
        posix = folder.absolute().as_posix()
        return f"file://{posix}" if posix.startswith("/") else f"file:///{posix}"
    parts = urlsplit(str(location))
    return parts._replace(scheme=SPARK_SCHEMES[parts.scheme.lower()]).geturl()
