"""WildFly: the distribution archive from Maven Central (checksum verified, cached on the host) and the
server configurations the harness runs from it, as jboss-cli scripts.

Configurations are split in two so that a rendered configuration can be reused across nodes and topologies:
the CLI script fixes the structure (discovery mode, number of static proxies, load provider, listener,
sticky-session settings, ...) and writes topology- and node-specific values as expressions
(`${harness.advertise.group}`), whose values are passed to the server as system properties (`-D...`).
The script runs once in embed-server mode on a copy of the base configuration (`harness.xml`); the
result is cached by the hash of (image, base, script) in `nodes_wildfly`.

The archive half touches the network (Maven Central); the configuration half is pure.
"""

from __future__ import annotations

import hashlib
import os
import re
import tarfile
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests

from harness.descriptions import settings
from harness.descriptions.balancer import BalancerSpec
from harness.descriptions.base import SpecError
from harness.descriptions.node import Advertise, Discovery, NodeSpec, StaticProxies
from harness.machinery.locks import cross_process_lock

MAVEN_CENTRAL = "https://repo.maven.apache.org/maven2"
REPOSITORY_ENV = "HARNESS_MAVEN_REPOSITORY"  # a Maven Central mirror, if set
ARTIFACT_PATH = "org/wildfly/wildfly-dist"
OPTION_HINT = (
    "pass --wildfly-archive PATH (or HARNESS_WILDFLY_ARCHIVE) with a local wildfly-dist .tar.gz/.zip, "
    "or a --wildfly-version (HARNESS_WILDFLY_VERSION) that is already cached"
)
_VERSION_RE = re.compile(r"[0-9][0-9A-Za-z._-]{0,63}")
_CHUNK = 1 << 20


class WildflyArchiveError(RuntimeError):
    """The WildFly distribution cannot be obtained: unknown version, bad checksum, bad local archive."""


class WildflyUnavailable(WildflyArchiveError):
    """Maven Central cannot be reached and no local or cached archive exists (tests turn this into a skip)."""


def _say(message: str) -> None:
    from harness.machinery.images import progress

    progress(f"wildfly: {message}")


def dist_url(version: str, ext: str = "tar.gz", repository: str = MAVEN_CENTRAL) -> str:
    """URL of org.wildfly:wildfly-dist:<version>:<ext> in a Maven repository."""
    return f"{repository.rstrip('/')}/{ARTIFACT_PATH}/{version}/wildfly-dist-{version}.{ext}"


def sha1_of(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_wildfly_archive(
    version: str, local_archive: str | Path | None = None, *, repository: str | None = None, cache: Path | None = None
) -> Path:
    """A verified wildfly-dist .tar.gz: the local archive (a .zip is converted), else the cached or
    downloaded org.wildfly:wildfly-dist:<version>:tar.gz with its .sha1 checked."""
    if local_archive:
        return _local_archive(Path(local_archive), cache or settings.cache_dir() / "wildfly")
    if not isinstance(version, str) or not _VERSION_RE.fullmatch(version):
        raise WildflyArchiveError(f"--wildfly-version {version!r}: not a version (expected e.g. '39.0.1.Final')")
    folder = cache or settings.cache_dir() / "wildfly"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"wildfly-dist-{version}.tar.gz"
    checksum_file = target.with_name(target.name + ".sha1")
    repo = repository or os.environ.get(REPOSITORY_ENV) or MAVEN_CENTRAL
    with cross_process_lock(f"wildfly-dist-{version}"):  # parallel workers share one download
        if target.is_file() and checksum_file.is_file():
            _verify(target, checksum_file.read_text().split()[0], version)
            return target
        expected = _fetch_checksum(version, repo, checksum_file)
        if target.is_file():  # cached without a checksum file: verify now
            _verify(target, expected, version)
            return target
        _download(dist_url(version, "tar.gz", repo), target, expected, version)
        return target


def _verify(path: Path, expected: str, version: str) -> None:
    actual = sha1_of(path)
    if actual != expected.lower():
        raise WildflyArchiveError(
            f"wildfly-dist {version}: checksum mismatch for {path}: SHA-1 {actual}, expected {expected} "
            "(Maven Central's .sha1); delete the file to download it again"
        )


def _fetch_checksum(version: str, repo: str, checksum_file: Path) -> str:
    url = dist_url(version, "tar.gz.sha1", repo)
    try:
        reply = requests.get(url, timeout=(10, 30))
    except requests.RequestException as exc:
        raise WildflyUnavailable(
            f"wildfly-dist {version}: {repo} cannot be reached; {OPTION_HINT} ({type(exc).__name__}: {str(exc)[:200]})"
        ) from exc
    if reply.status_code == 404:
        raise WildflyArchiveError(
            f"--wildfly-version {version}: org.wildfly:wildfly-dist:{version} is not on "
            f"{repo} ({url} answered 404); check the version (e.g. 39.0.1.Final)"
        )
    if reply.status_code != 200:
        raise WildflyUnavailable(f"wildfly-dist {version}: {url} answered {reply.status_code}; {OPTION_HINT}")
    expected = reply.text.split()[0].strip().lower() if reply.text.split() else ""
    if not re.fullmatch(r"[0-9a-f]{40}", expected):
        raise WildflyArchiveError(f"wildfly-dist {version}: {url} is not a SHA-1 checksum: {reply.text[:80]!r}")
    checksum_file.write_text(expected + "\n")
    return expected


def _download(url: str, target: Path, expected: str, version: str) -> None:
    partial = target.with_name(target.name + ".part")
    if partial.is_file() and sha1_of(partial) == expected:  # a finished download that was never renamed
        partial.rename(target)
        return
    offset = partial.stat().st_size if partial.is_file() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        with requests.get(url, headers=headers, stream=True, timeout=(10, 60)) as reply:
            if reply.status_code == 404:
                raise WildflyArchiveError(f"--wildfly-version {version}: {url} answered 404")
            reply.raise_for_status()
            if reply.status_code != 206:
                offset = 0
            _write_stream(reply, partial, offset, version)
    except requests.RequestException as exc:
        raise WildflyUnavailable(
            f"wildfly-dist {version}: download of {url} failed; {OPTION_HINT} ({type(exc).__name__}: {str(exc)[:200]})"
        ) from exc
    actual = sha1_of(partial)
    if actual != expected:
        partial.unlink()
        raise WildflyArchiveError(
            f"wildfly-dist {version}: checksum mismatch for {url}: SHA-1 {actual}, "
            f"expected {expected}; the partial download was deleted, run again"
        )
    partial.rename(target)


def _write_stream(reply: requests.Response, partial: Path, offset: int, version: str) -> None:
    total = offset + int(reply.headers.get("Content-Length") or 0)
    done, started, shown = offset, time.monotonic(), 0.0
    _say(
        f"downloading wildfly-dist {version} ({total / 1e6:.0f} MB) from {reply.url}"
        + (f", resuming at {offset / 1e6:.0f} MB" if offset else "")
    )
    with open(partial, "ab" if offset else "wb") as out:
        for chunk in reply.iter_content(_CHUNK):
            out.write(chunk)
            done += len(chunk)
            if time.monotonic() - shown >= 5:
                shown = time.monotonic()
                rate = (done - offset) / max(shown - started, 0.001) / 1e6
                _say(f"  {done / 1e6:.0f}/{total / 1e6:.0f} MB ({rate:.1f} MB/s)")
    _say(f"downloaded {done / 1e6:.0f} MB in {time.monotonic() - started:.1f}s")


def _local_archive(path: Path, folder: Path) -> Path:
    if not path.is_file():
        raise WildflyArchiveError(f"--wildfly-archive {path}: no such file")
    if path.name.endswith((".tar.gz", ".tgz")):
        return path
    if path.suffix != ".zip":
        raise WildflyArchiveError(f"--wildfly-archive {path}: expected a wildfly-dist .tar.gz or .zip")
    folder.mkdir(parents=True, exist_ok=True)
    converted = folder / f"{path.stem}-{sha1_of(path)[:12]}.tar.gz"
    if not converted.is_file():
        _say(f"converting {path} to {converted.name}")
        zip_to_tar_gz(path, converted)
    return converted


def zip_to_tar_gz(source: Path, target: Path) -> None:
    """Repack a zip as tar.gz, keeping unix permissions (the build context wants a tar the builder extracts)."""
    partial = target.with_name(target.name + ".part")
    with zipfile.ZipFile(source) as archive, tarfile.open(partial, "w:gz", compresslevel=1) as tar:
        for entry in archive.infolist():
            info = tarfile.TarInfo(entry.filename.rstrip("/"))
            mode = (entry.external_attr >> 16) & 0o7777
            if entry.is_dir():
                info.type, info.mode = tarfile.DIRTYPE, mode or 0o755
                tar.addfile(info)
                continue
            info.size, info.mode = entry.file_size, mode or 0o644
            with archive.open(entry) as handle:
                tar.addfile(info, handle)
    partial.rename(target)


# ---- configurations -------------------------------------------------------------------------------

NODE_BASE = "standalone-ha.xml"
BALANCER_BASE = "standalone-load-balancer.xml"
CONFIG_NAME = "harness.xml"
SOCKETS = "/socket-binding-group=standard-sockets"
PROXY = "/subsystem=modcluster/proxy=default"
LB_FILTER = "/subsystem=undertow/configuration=filter/mod-cluster=load-balancer"


@dataclass(frozen=True)
class ServerConfig:
    """What one WildFly server runs: the CLI script applied to `base`, and its server arguments."""

    role: str  # "node" | "balancer"
    base: str
    cli: str = field(repr=False)
    properties: Mapping[str, str] = field(default_factory=dict)
    options: tuple[str, ...] = ()  # extra standalone.sh options

    def key(self, image: str) -> str:
        """Cache key of the rendered configuration (the properties are not part of it)."""
        return hashlib.sha256(f"{image}\0{self.base}\0{self.cli}".encode()).hexdigest()[:20]

    def server_args(self, private_address: str) -> tuple[str, ...]:
        """standalone.sh arguments: public on every interface, private (advertise, JGroups, MCMP) on one."""
        args = ["-c", CONFIG_NAME, "-b", "0.0.0.0", f"-bprivate={private_address}"]
        args += [*self.options, *(f"-D{key}={value}" for key, value in sorted(self.properties.items()))]
        for arg in args:
            if "\n" in arg or "\r" in arg:
                raise SpecError("properties", f"server argument {arg!r} contains a line break")
        return tuple(args)


def _script(lines: list[str]) -> str:
    plain_console = "/subsystem=logging/console-handler=CONSOLE:write-attribute(name=named-formatter, value=PATTERN)"
    body = [
        f"embed-server --server-config={CONFIG_NAME} --std-out=discard",
        "batch",
        *lines,
        plain_console,
        "run-batch",
        "stop-embedded-server",
    ]
    return "\n".join(body) + "\n"


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _seconds(field: str, value: float) -> int:
    """mod_cluster takes whole seconds."""
    whole = int(value)
    if whole != value:
        raise SpecError(field, f"got {value}; WildFly's mod_cluster takes whole seconds")
    return whole


def _advertise_lines(discovery: Advertise, binding: str, key_attr: str, resource: str) -> list[str]:
    lines = [
        f'{binding}:write-attribute(name=multicast-address, value="${{harness.advertise.group}}")',
        f'{binding}:write-attribute(name=multicast-port, value="${{harness.advertise.port}}")',
    ]
    if discovery.security_key is not None:
        lines.append(f'{resource}:write-attribute(name={key_attr}, value="${{harness.advertise.key}}")')
    else:
        lines.append(f"{resource}:undefine-attribute(name={key_attr})")
    return lines


def _advertise_properties(discovery: Advertise) -> dict[str, str]:
    values = {"harness.advertise.group": discovery.group, "harness.advertise.port": str(discovery.port)}
    if discovery.security_key is not None:
        values["harness.advertise.key"] = discovery.security_key
    return values


AFFINITIES = ("local", "primary-owner")
SESSIONS = "/subsystem=distributable-web/infinispan-session-management=default"


def node_config(
    spec: NodeSpec,
    discovery: Discovery | None,
    *,
    dynamic_load: bool = False,
    session_affinity: str = "local",
    ping_s: int = 1,
    graceful_startup: bool = True,
) -> ServerConfig:
    """The modcluster subsystem of a WildFly node (standalone-ha) configured from `spec` and `discovery`.

    jvmRoute = `spec.name` (jboss.node.name). load: a fixed factor (load-provider=simple) unless
    `dynamic_load`. WildFly's factor is 0..100: load -1 (broken) cannot be configured.
    session_affinity: "local" (the route is the node that served the request: a session moves once on
    failover and stays) or WildFly's HA default "primary-owner" (the route follows Infinispan's primary
    owner: sessions move again when the cluster view changes, e.g. when a killed node comes back).
    ping_s: mod_cluster `ping` (the balancer's ping timeout for this node; WildFly's default is 10). During a
    graceful startup the node queues requests, so the balancer's `OPTIONS *` ping after the node's first
    STATUS waits until boot ends while boot (the first deployment's STOP-APP) waits for that STATUS reply:
    the ping timeout breaks the wait, so with 10 every node took 10 s longer to start. graceful_startup
    False (`--graceful-startup=false`) avoids the wait too, but then a node restarted after a kill answers
    404 for contexts the balancer still holds ENABLED until its deployments are up.
    """
    if session_affinity not in AFFINITIES:
        raise SpecError("session_affinity", f"got {session_affinity!r}; accepted values: {', '.join(AFFINITIES)}")
    if not isinstance(ping_s, int) or not 1 <= ping_s <= 3600:
        raise SpecError("ping_s", f"got {ping_s!r}; expected whole seconds 1..3600")
    discovery = StaticProxies() if discovery is None else discovery  # the Topology rule for MCMP balancers
    if not isinstance(discovery, (Advertise, StaticProxies)):
        raise SpecError("discovery", f"got {discovery!r}; a WildFly node takes Advertise(...) or StaticProxies(...)")
    if not dynamic_load and spec.load < 0:
        raise SpecError("load", f"got {spec.load}; WildFly's simple load provider takes 0..100")
    lines = [
        f"{PROXY}:write-attribute(name=listener, value={'ajp' if spec.connector == 'ajp' else 'default'})",
        f"{PROXY}:write-attribute(name=status-interval, value={_seconds('status_interval_s', spec.status_interval_s)})",
        f"{PROXY}:write-attribute(name=sticky-session, value={_bool(spec.sticky_session)})",
        f"{PROXY}:write-attribute(name=sticky-session-force, value={_bool(spec.sticky_session_force)})",
        f"{PROXY}:write-attribute(name=sticky-session-remove, value={_bool(spec.sticky_session_remove)})",
        f"{PROXY}:write-attribute(name=stop-context-timeout, "
        f"value={_seconds('stop_context_timeout_s', spec.stop_context_timeout_s)})",
        f'{PROXY}:write-attribute(name=ping, value="${{harness.node.ping}}")',
    ]
    if session_affinity != "primary-owner":
        lines += [f"{SESSIONS}/affinity=primary-owner:remove", f"{SESSIONS}/affinity={session_affinity}:add"]
    for name, value in (("balancer", spec.balancer), ("load-balancing-group", spec.lbgroup)):
        lines.append(
            f"{PROXY}:write-attribute(name={name}, value={value})"
            if value
            else f"{PROXY}:undefine-attribute(name={name})"
        )
    if not dynamic_load:
        lines += [
            f"{PROXY}/load-provider=dynamic:remove",
            f'{PROXY}/load-provider=simple:add(factor="${{harness.node.load}}")',
        ]
    properties = {
        "jboss.node.name": spec.name,
        "jboss.tx.node.id": spec.name,
        "jboss.http.port": str(spec.http_port),
        "jboss.ajp.port": str(spec.ajp_port),
        "harness.node.load": str(max(spec.load, 0)),
        "harness.node.ping": str(ping_s),
    }
    binding = f"{SOCKETS}/socket-binding=modcluster"
    if isinstance(discovery, Advertise):
        lines += [
            f"{binding}:write-attribute(name=interface, value=private)",
            f"{PROXY}:write-attribute(name=advertise, value=true)",
        ]
        lines += _advertise_lines(discovery, binding, "advertise-security-key", PROXY)
        properties.update(_advertise_properties(discovery))
    else:
        names = []
        for i, address in enumerate(discovery.proxies):
            host, _, port = address.rpartition(":")
            name = f"harness-proxy-{i}"
            names.append(name)
            lines.append(
                f"{SOCKETS}/remote-destination-outbound-socket-binding={name}:add("
                f'host="${{harness.proxy.{i}.host}}", port="${{harness.proxy.{i}.port}}")'
            )
            properties[f"harness.proxy.{i}.host"] = host.strip("[]")
            properties[f"harness.proxy.{i}.port"] = port
        lines += [
            f"{PROXY}:write-attribute(name=advertise, value=false)",
            f"{PROXY}:write-attribute(name=proxies, value=[{', '.join(names)}])",
        ]
    host = "/subsystem=undertow/server=default-server/host=default-host"
    lines += [
        f"{host}:write-attribute(name=alias, value=[{', '.join(spec.aliases)}])",
        f"{host}/location=\\/:remove",  # welcome content: contexts registered are the WARs only
        f"{host}/setting=http-invoker:remove",
        "/subsystem=deployment-scanner/scanner=default:write-attribute(name=scan-interval, value=500)",
    ]
    options = () if graceful_startup else ("--graceful-startup=false",)
    return ServerConfig("node", NODE_BASE, _script(lines), properties, options)


def balancer_config(spec: BalancerSpec, discovery: Discovery | None) -> ServerConfig:
    """WildFly's load-balancer profile: Undertow's mod_cluster filter, proxy HTTP on `spec.proxy_port`,
    MCMP on `spec.mcmp_port` (private interface), advertising when the discovery is Advertise (unless
    `spec.server_advertise` is False) with the discovery's group, port, key and frequency."""
    if spec.flavor != "undertow":
        raise SpecError("balancer.flavor", f"got {spec.flavor!r}; this configuration is for 'undertow'")
    advertise = isinstance(discovery, Advertise) and spec.server_advertise is not False
    if spec.server_advertise and not isinstance(discovery, Advertise):
        raise SpecError("balancer.server_advertise", "True needs Advertise discovery (its group, port and key)")
    properties = {
        "jboss.node.name": "balancer",
        "jboss.http.port": str(spec.proxy_port),
        "jboss.mcmp.port": str(spec.mcmp_port),
    }
    lines: list[str] = []
    binding = f"{SOCKETS}/socket-binding=modcluster"
    if advertise:
        assert isinstance(discovery, Advertise)
        frequency = spec.advertise_frequency_s or discovery.frequency_s
        lines += _advertise_lines(discovery, binding, "security-key", LB_FILTER)
        frequency_expr = '"${harness.advertise.frequency}"'
        lines.append(f"{LB_FILTER}:write-attribute(name=advertise-frequency, value={frequency_expr})")
        properties.update(_advertise_properties(discovery))
        properties["harness.advertise.frequency"] = str(max(1, round(frequency * 1000)))
    else:
        lines.append(f"{LB_FILTER}:undefine-attribute(name=advertise-socket-binding)")
    if spec.use_alias is not None:
        lines.append(f"{LB_FILTER}:write-attribute(name=use-alias, value={_bool(spec.use_alias)})")
    return ServerConfig("balancer", BALANCER_BASE, _script(lines), properties)
