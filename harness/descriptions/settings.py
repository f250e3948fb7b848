"""Process-wide settings: label names, the run id, cache and evidence folders, testcontainers setup.

Everything that names a Docker object the harness creates comes from here, so cleanup by label
(`harness sweep`) and creation always agree.
"""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

LABEL_PREFIX = "org.modcluster.harness"
LABEL_MANAGED = f"{LABEL_PREFIX}.managed"  # "true" on everything the harness creates
LABEL_RUN = f"{LABEL_PREFIX}.run"  # run id: one per harness process (pytest session, CLI call)
LABEL_PID = f"{LABEL_PREFIX}.pid"  # pid of the process that created the object
LABEL_HOST = f"{LABEL_PREFIX}.host"  # hostname of that process (pids are only meaningful there)
LABEL_ROLE = f"{LABEL_PREFIX}.role"  # balancer | node | probe | load | ...
LABEL_NAME = f"{LABEL_PREFIX}.name"  # stable name (node1, balancer, ...)
LABEL_TOPOLOGY = f"{LABEL_PREFIX}.topology"
LABEL_KEEP = f"{LABEL_PREFIX}.keep"  # "true": kept on purpose (harness up, --keep-on-failure)
LABEL_IMAGE = f"{LABEL_PREFIX}.image"  # image name (images/<name>) on built images
LABEL_CONTEXT_HASH = f"{LABEL_PREFIX}.context-hash"

PROJECT_ROOT = Path(__file__).resolve().parents[2]
IMAGES_DIR = PROJECT_ROOT / "images"
LOCUSTFILES_DIR = PROJECT_ROOT / "locustfiles"

# a pytest-xdist worker of a run given HARNESS_RUN_ID gets its own id (its objects are its own to sweep)
_RUN_ID = "-".join(
    filter(None, (os.environ.get("HARNESS_RUN_ID") or uuid.uuid4().hex[:10], os.environ.get("PYTEST_XDIST_WORKER")))
)


def run_id() -> str:
    """The id of this harness process; every object it creates carries it as a label."""
    return _RUN_ID


def hostname() -> str:
    return socket.gethostname()


def run_labels(**extra: str) -> dict[str, str]:
    """Labels for a container or network created by this process."""
    labels = {
        LABEL_MANAGED: "true",
        LABEL_RUN: run_id(),
        LABEL_PID: str(os.getpid()),
        LABEL_HOST: hostname(),
    }
    for key, value in extra.items():
        labels[f"{LABEL_PREFIX}.{key.replace('_', '-')}"] = value
    return labels


def cache_dir() -> Path:
    """Host cache for downloads (WildFly archives, base image tarballs). Created on demand."""
    base = os.environ.get("HARNESS_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mc-harness"
    )
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


_progress_sink: Callable[[str], None] | None = None


def set_progress_sink(sink: Callable[[str], None] | None) -> None:
    """Where progress lines go (the pytest plugin routes them past output capture to the terminal)."""
    global _progress_sink
    _progress_sink = sink


def progress(message: str) -> None:
    """A progress line for long work (image builds, downloads): shown live, also under pytest."""
    line = f"[harness] {message}"
    if _progress_sink is not None:
        _progress_sink(line)
        return
    print(line, file=sys.__stderr__ or sys.stderr, flush=True)


def configure_testcontainers() -> None:
    """Make testcontainers work on these machines, before its first container.

    Ryuk needs an image pull (impossible offline) and the harness owns cleanup by label, so Ryuk is off.
    Machines with /.dockerenv make testcontainers guess the gateway as host address: pin the mode.
    """
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "bridge_ip")
    try:
        from testcontainers.core.config import testcontainers_config as tc_config
    except ImportError:  # pragma: no cover - testcontainers is a declared dependency
        return
    tc_config.ryuk_disabled = os.environ["TESTCONTAINERS_RYUK_DISABLED"].lower() == "true"
    try:
        from testcontainers.core.config import ConnectionMode

        tc_config.connection_mode_override = ConnectionMode(os.environ["TESTCONTAINERS_CONNECTION_MODE"])
    except (ImportError, ValueError, AttributeError):
        pass
