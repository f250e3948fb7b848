"""Image pipeline: each `images/<name>/` built at most once per session, tagged by a hash of its inputs.

The tag is `mc-harness/<name>:<hash>` where the hash covers the build context (the folder plus any extra
files or folders the caller adds), the build arguments and the base image id. An image already present
with that tag is reused. Builds use the legacy builder with host networking (no BuildKit features).
The base image is pulled when a registry answers, otherwise bootstrapped from Debian packages.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors

from harness.descriptions import settings
from harness.machinery.containers import read_container_file
from harness.machinery.locks import cross_process_lock
from harness.machinery.resources import labels

BASE_REPOSITORY = "mc-harness/base"
BASE_SUITE = "bookworm"
BASE_PULL_CANDIDATES = ("debian:bookworm-slim",)
_SKIP_NAMES = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", "build", ".venv"}
_lock = threading.Lock()
_built: dict[str, str] = {}  # key -> tag, for "at most once per session"
_files: dict[tuple[str, str], bytes] = {}  # (image id, path) -> bytes, read once per process


class ImageBuildError(RuntimeError):
    """A build failed: names the image, the failing step and the tail of its output."""

    def __init__(self, image: str, step: str, output: str, error: str) -> None:
        self.image, self.step, self.output, self.error = image, step, output, error
        super().__init__(
            f"image {image!r} failed at {step or 'context upload'}: {error}\n--- step output ---\n{output}"
        )


@dataclass(frozen=True)
class ImageRequest:
    """What to build: `images/<name>/` plus extra context entries and build arguments."""

    name: str
    build_args: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Path] = field(default_factory=dict)  # path inside the context -> host file or folder

    def __post_init__(self) -> None:
        if not (settings.IMAGES_DIR / self.name / "Dockerfile").is_file():
            known = sorted(p.name for p in settings.IMAGES_DIR.iterdir() if (p / "Dockerfile").is_file())
            raise ValueError(f"image name {self.name!r}: no images/{self.name}/Dockerfile (known: {', '.join(known)})")
        for dest, src in self.extra.items():
            if not Path(src).exists():
                raise FileNotFoundError(f"extra context entry {dest!r} of image {self.name!r}: {src} does not exist")


progress = settings.progress


def _context_entries(request: ImageRequest) -> Iterator[tuple[str, Path]]:
    roots = [("", settings.IMAGES_DIR / request.name)] + [(d.strip("/"), Path(s)) for d, s in request.extra.items()]
    for prefix, root in roots:
        if root.is_file():
            yield prefix, root
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_NAMES)
            for filename in sorted(filenames):
                path = Path(dirpath) / filename
                rel = path.relative_to(root).as_posix()
                yield (f"{prefix}/{rel}" if prefix else rel), path


def context_hash(request: ImageRequest, base_id: str) -> str:
    digest = hashlib.sha256()
    for arcname, path in sorted(_context_entries(request)):
        digest.update(arcname.encode() + b"\0" + str(os.stat(path).st_mode & 0o111).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for key in sorted(request.build_args):
        digest.update(f"arg:{key}={request.build_args[key]}\0".encode())
    digest.update(f"base:{base_id}".encode())
    return digest.hexdigest()[:16]


def _context_tar(request: ImageRequest) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for arcname, path in _context_entries(request):
            tar.add(str(path), arcname=arcname, recursive=False)
    buffer.seek(0)
    return buffer


def _find(client: docker.DockerClient, tag: str) -> str | None:
    try:
        return str(client.images.get(tag).id)
    except docker.errors.ImageNotFound:
        return None


def ensure_base(client: docker.DockerClient) -> str:
    """The base image tag (Debian bookworm): present, pulled, or bootstrapped with mmdebstrap."""
    tag = f"{BASE_REPOSITORY}:{BASE_SUITE}"
    with _lock, cross_process_lock(f"image-{tag}"):  # parallel workers: one builds, the others reuse
        if _find(client, tag):
            return tag
        for candidate in BASE_PULL_CANDIDATES:
            try:
                progress(f"base image: trying to pull {candidate} ...")
                image = client.images.pull(candidate)
                image.tag(BASE_REPOSITORY, BASE_SUITE)
                progress(f"base image: pulled {candidate} as {tag}")
                return tag
            except docker.errors.APIError as exc:
                progress(f"base image: pull of {candidate} failed ({str(exc).splitlines()[0][:160]}); bootstrapping")
        _bootstrap_base(client, tag)
        return tag


def _bootstrap_base(client: docker.DockerClient, tag: str) -> None:
    tool = shutil.which("mmdebstrap")
    if tool is None:
        raise ImageBuildError(
            "base",
            "bootstrap",
            "",
            "no registry answers and `mmdebstrap` is missing: install it (apt-get install mmdebstrap) "
            "or run the README's bootstrap command as root, which installs it",
        )
    tarball = settings.cache_dir() / f"base-{BASE_SUITE}.tar"
    started = time.monotonic()
    if not tarball.is_file():
        progress(f"base image: mmdebstrap --variant=minbase {BASE_SUITE} (about 30 s) ...")
        partial = tarball.with_suffix(".tar.part")
        result = subprocess.run(
            [
                tool,
                "--variant=minbase",
                "--format=tar",
                "--include=ca-certificates",
                "--quiet",
                BASE_SUITE,
                str(partial),
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise ImageBuildError("base", "mmdebstrap", result.stderr[-3000:], f"mmdebstrap exited {result.returncode}")
        partial.rename(tarball)
    repository, _, version = tag.partition(":")
    changes = ['CMD ["/bin/bash"]', f"LABEL {settings.LABEL_IMAGE}=base {settings.LABEL_MANAGED}=true"]
    client.api.import_image_from_file(str(tarball), repository=repository, tag=version, changes=changes)
    if not _find(client, tag):
        raise ImageBuildError("base", "docker import", "", f"import of {tarball} did not produce {tag}")
    progress(f"base image: {tag} ready in {time.monotonic() - started:.1f}s")


def planned(client: docker.DockerClient, request: ImageRequest) -> tuple[ImageRequest, str, str]:
    """(the request with the base image argument, its context hash, the tag) the build would produce."""
    base_tag = ensure_base(client)
    base_id = _find(client, base_tag) or ""
    full = ImageRequest(request.name, {"BASE_IMAGE": base_tag, **request.build_args}, request.extra)
    digest = context_hash(full, base_id)
    return full, digest, f"mc-harness/{request.name}:{digest}"


def is_present(client: docker.DockerClient, request: ImageRequest) -> bool:
    """Whether the image for these inputs exists already (build() would reuse it)."""
    return _find(client, planned(client, request)[2]) is not None


def build(client: docker.DockerClient, request: ImageRequest) -> str:
    """Build (or reuse) the image and return its tag. At most one build per inputs per process."""
    full, digest, tag = planned(client, request)
    with _lock, cross_process_lock(f"image-{tag}"):
        if tag in _built or _find(client, tag):
            _built[tag] = tag
            return tag
        _run_build(client, full, tag, digest)
        _built[tag] = tag
        return tag


_STEP = re.compile(r"^Step \d+/\d+ : ")


def _run_build(client: docker.DockerClient, request: ImageRequest, tag: str, digest: str) -> None:
    started = time.monotonic()
    progress(f"image {request.name}: building {tag} ...")
    step: str = ""
    output: list[str] = []
    stream = client.api.build(
        fileobj=_context_tar(request),
        custom_context=True,
        tag=tag,
        buildargs=dict(request.build_args),
        network_mode="host",
        rm=True,
        forcerm=True,
        decode=True,
        labels={
            settings.LABEL_IMAGE: request.name,
            settings.LABEL_CONTEXT_HASH: digest,
            settings.LABEL_MANAGED: "true",
        },
    )
    verbose = os.environ.get("HARNESS_VERBOSE_BUILD") == "1"
    for chunk in stream:
        text = chunk.get("stream", "")
        if _STEP.match(text):
            step, output = text.strip(), []
            progress(f"image {request.name}: {step[:150]} ({time.monotonic() - started:.1f}s)")
        elif text:
            output.append(text)
            if verbose:
                progress(f"  {text.rstrip()}")
        if "error" in chunk or "errorDetail" in chunk:
            error = chunk.get("error") or str(chunk.get("errorDetail"))
            raise ImageBuildError(request.name, step, "".join(output)[-4000:], error.strip())
    if not _find(client, tag):
        raise ImageBuildError(request.name, step, "".join(output)[-4000:], "build ended without producing the image")
    progress(f"image {request.name}: built in {time.monotonic() - started:.1f}s")


def read_image_file(client: docker.DockerClient, tag: str, path: str) -> bytes:
    """One regular file of an image (written by its build), read from a container created, never started, and
    removed at once (harness labels, so a killed run's leftover is swept). Cached per image id and path."""
    image_id = _find(client, tag)
    if image_id is None:
        raise FileNotFoundError(f"image {tag} is not present to read {path} from")
    key = (image_id, path)
    if key not in _files:
        container = client.containers.create(image_id, command=["true"], labels=labels(role="image-reader"))
        try:
            _files[key] = read_container_file(container, path)
        finally:
            container.remove(force=True)
    return _files[key]


def forget_session_cache() -> None:
    """For benchmarks: make the next build() look the image up again."""
    _built.clear()
    _files.clear()
