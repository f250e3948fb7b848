"""Cross-process locks for work that parallel harness processes (pytest-xdist workers, two CI jobs on one
machine) must not do twice at once: an image build for one tag, a download into the cache.

`with cross_process_lock("image-<tag>"):` holds an flock on <cache dir>/locks/<name>.lock; the kernel drops
it when the process dies, so a killed holder never blocks the others.
"""

from __future__ import annotations

import fcntl
import re
from collections.abc import Iterator
from contextlib import contextmanager

from harness.descriptions import settings


@contextmanager
def cross_process_lock(name: str) -> Iterator[None]:
    folder = settings.cache_dir() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{re.sub(r'[^A-Za-z0-9._-]+', '_', name)}.lock"
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
