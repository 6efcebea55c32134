"""The Docker engine: a client that answers, look-ups that may find nothing, files to copy in.

The ``docker`` SDK is imported when first needed, so the pure modules work without it.
"""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Callable
from typing import Any

from tools.testhosts.errors import EngineUnavailable

Log = Callable[[str], None]


def print_log(message: str) -> None:
    print(message, flush=True)


def engine_client(timeout: int = 120) -> Any:
    """A ``docker.DockerClient`` for an engine that answers; else `EngineUnavailable`."""
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    # OSError: connection refused and the like, which the SDK does not wrap
    except (DockerException, OSError) as error:
        raise EngineUnavailable(
            f"Docker engine not reachable: run tools/host-setup.sh ({error})"
        ) from error
    return client


def not_found() -> type[Exception]:
    from docker.errors import NotFound

    return NotFound  # type: ignore[no-any-return]


def get_or_none(collection: Any, name: str) -> Any | None:
    """``collection.get(name)`` (``client.images``, ``client.containers``), or None if absent."""
    try:
        return collection.get(name)
    except not_found():
        return None


def tar_files(files: dict[str, tuple[bytes, int]]) -> bytes:
    """A tar archive of ``{path: (content, mode)}``, owned by root."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, (content, mode) in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = mode
            info.mtime = int(time.time())
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()
