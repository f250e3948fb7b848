"""The httpd + mod_cluster balancer flavor: image from a source tree, container from a BalancerSpec, and
a `HttpdBalancer` whose snapshot combines INFO (contexts, load) with the manager page (up/down: INFO has
none). Readiness is probed over MCMP and the proxy port: httpd's start command returns 0 even when the
configuration fails after parsing, so a wait also ends at once when httpd's processes are gone after the start
script ran, with httpd's error_log. The configuration is rendered from what the image's build registers
(capabilities.py), read from the image once per image.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any, ClassVar

import docker
import requests

from harness.descriptions.balancer import BalancerSpec
from harness.descriptions.node import Advertise
from harness.flavors.httpd_modcluster.capabilities import CAPABILITIES_PATH, ModClusterBuild, parse_capabilities
from harness.flavors.httpd_modcluster.conf import render_httpd_conf
from harness.flavors.httpd_modcluster.source import ModClusterSource, SourceError
from harness.flavors.httpd_process import HttpdProcess
from harness.machinery import images
from harness.machinery.containers import (
    ContainerExited,
    container_alive,
    container_file_text,
    container_ip,
    container_logs,
    exec_in,
)
from harness.machinery.contracts import BalancerBase, BalancerState, info_nodes
from harness.machinery.resources import Resources
from harness.machinery.waiting import WaitTimeout, wait_until
from harness.protocol.balancer_info import BalancerInfo, parse_dump, parse_info
from harness.protocol.manager_page import ManagerPage, parse_manager_page
from harness.protocol.mcmp import McmpProtocolError, parse_version
from harness.protocol.mcmp_client import McmpClient, McmpTransportError

CONF_PATH = "/etc/httpd-harness/httpd.conf"
LOG_DIR = "/var/log/httpd-harness"


class BalancerStartError(RuntimeError):
    pass


class VersionRefused(BalancerStartError):
    """httpd runs and mod_manager answers MCMP, but not VERSION: mod_cluster 1.3.4.Final refuses every message
    without a key=value body (VERSION, INFO, DUMP: "SYNTAX: Can't parse MCMP message"; fixed in 1.3.5)."""


def image_request(source: ModClusterSource) -> images.ImageRequest:
    """The balancer image's inputs: the image folder and the tree's native/ (its tag follows their content)."""
    return images.ImageRequest("httpd-modcluster", {}, {"src/native": source.native})


def image_for(client: docker.DockerClient, source: ModClusterSource) -> str:
    """The balancer image for this source tree (built once per tree content)."""
    return images.build(client, image_request(source))


def build_of(client: docker.DockerClient, tag: str, source: ModClusterSource) -> ModClusterBuild:
    """What the image's build has (its capabilities file), named by the source's release and commit."""
    text = images.read_image_file(client, tag, CAPABILITIES_PATH).decode(errors="replace")
    return parse_capabilities(text, source.line, source.release, source.commit)


def render_for(
    spec: BalancerSpec, source: ModClusterSource, build: ModClusterBuild, advertise: Advertise | None
) -> str:
    if not source.supports_mode(spec.mode):
        raise SourceError(
            f"mode {spec.mode!r} needs a 2.x source (mod_lbmethod_cluster); {source.origin} is "
            f"{source.release} (line {source.line})"
        )
    return render_httpd_conf(spec, build, advertise=advertise)


@dataclass
class HttpdBalancer(HttpdProcess, BalancerBase):
    container: Any  # testcontainers DockerContainer
    spec: BalancerSpec
    source: ModClusterSource
    build: ModClusterBuild
    ip: str
    config: str
    name: str = "balancer"
    conf_path: ClassVar[str] = CONF_PATH
    pid_file: ClassVar[str] = "/run/httpd-harness/httpd.pid"
    error: ClassVar[type[Exception]] = BalancerStartError

    # --- facts --------------------------------------------------------------------------------------
    def proxy_url(self, path: str = "/") -> str:
        return f"http://{self.ip}:{self.spec.proxy_port}{path}"

    def manager_url(self) -> str:
        return f"http://{self.ip}:{self.spec.mcmp_port}{self.spec.manager_location}"

    def mcmp_address(self) -> tuple[str, int]:
        return self.ip, self.spec.mcmp_port

    def mcmp(self, timeout: float = 5.0) -> McmpClient:
        return McmpClient(self.ip, self.spec.mcmp_port, timeout=timeout)

    def version(self) -> str:
        """The release httpd reports: MCMP VERSION, or the manager page's heading for a build without
        VERSION (mod_cluster 1.3.0.Final answers it 501 Not Implemented)."""
        with self.mcmp() as client:
            reply = client.version()
        if reply.status == 501:
            heading = self.manager_page().version
            if heading:
                return heading
        return parse_version(reply).release

    def versions(self) -> dict[str, str]:
        return {
            "mod_cluster": self.build.release,
            "mod_cluster commit": self.build.commit,
            "mod_cluster build": f"{self.build.build_method} ({self.source.line})",
            "httpd": self.build.httpd,
        }

    # --- observations ---------------------------------------------------------------------------------
    def info(self) -> BalancerInfo:
        with self.mcmp() as client:
            return parse_info(client.info().body)

    def dump(self) -> BalancerInfo:
        with self.mcmp() as client:
            return parse_dump(client.dump().body)

    def manager_page(self) -> ManagerPage:
        return parse_manager_page(self._manager_html())

    def _manager_html(self) -> str:
        reply = requests.get(self.manager_url(), timeout=5)
        reply.encoding = reply.encoding or "iso-8859-1"
        return reply.text

    def snapshot(self) -> BalancerState:
        with self.mcmp() as client:
            info_body, dump_body = client.info().body, client.dump().body
        html = self._manager_html()
        page = parse_manager_page(html)
        nodes = info_nodes(parse_info(info_body), up={node.name: node.is_ok for node in page.nodes})
        return BalancerState(nodes=nodes, raw={"info": info_body, "dump": dump_body, "manager": html})

    def error_log(self) -> str:
        return self.read_file(f"{LOG_DIR}/error_log")

    def access_log(self) -> str:
        return self.read_file(f"{LOG_DIR}/access_log")

    def evidence_files(self) -> dict[str, str]:
        return {"error_log": self.error_log(), "access_log": self.access_log(), "httpd.conf": self.config}

    def read_file(self, path: str) -> str:
        """A file from the container, running or stopped (archive API); says so when it cannot be read."""
        return container_file_text(self.container, path)

    def wait_ready(self, timeout: float = 30.0) -> None:
        wait_ready(self, timeout)


STARTED_MARK = "/run/httpd-harness/started"  # written by start-httpd.sh once `apache2 -k start` returned


class HttpdGone(RuntimeError):
    """httpd's processes are gone after the start script started it: the reason is in its error_log."""


def httpd_alive(container: Any) -> None:
    """Raise ContainerExited when the container ended, HttpdGone when it runs but httpd no longer does."""
    container_alive(container)
    code, _ = exec_in(container, ["sh", "-c", f"[ ! -e {STARTED_MARK} ] || pgrep -x apache2 >/dev/null"])
    if code == 1:
        raise HttpdGone("httpd started, then its processes ended")


def _answers(balancer: HttpdBalancer) -> bool:
    with socket.create_connection((balancer.ip, balancer.spec.proxy_port), timeout=2):
        pass
    return bool(balancer.version())


def _error_log_tail(container: Any, lines: int = 15) -> str:
    return container_file_text(container, f"{LOG_DIR}/error_log", tail=lines) or "(empty)"


def start_failure(container: Any, source: ModClusterSource, config: str, exc: ContainerExited) -> BalancerStartError:
    """The error for a balancer container that exited while starting: exit code, its log (where
    `apache2 -t` reports a rejected directive), httpd's error_log (read from the stopped container)."""
    code = "unknown exit code" if exc.exit_code is None else f"exit code {exc.exit_code}"
    return BalancerStartError(
        f"httpd + mod_cluster ({source.identity}) container {exc.name} {exc.status} while starting ({code})\n"
        f"--- container log tail ---\n{exc.log_tail}\n--- error_log tail ---\n{_error_log_tail(container)}\n"
        f"--- httpd.conf ---\n{config}"
    )


def wait_ready(balancer: HttpdBalancer, timeout: float) -> None:
    """Until httpd answers MCMP VERSION and accepts on the proxy port; BalancerStartError at once, with the
    error_log tail, when the container exits."""

    def describe() -> str:
        wrapped = balancer.container.get_wrapped_container()
        wrapped.reload()
        return f"container {wrapped.status}; error_log tail:\n{_error_log_tail(balancer.container)}"

    try:
        wait_until(
            lambda: _answers(balancer),
            timeout=timeout,
            interval=0.2,
            what=f"httpd to answer VERSION on MCMP port {balancer.spec.mcmp_port} and accept on "
            f"{balancer.spec.proxy_port}",
            describe=describe,
            hint="the configuration and error_log",
            transient=(McmpTransportError, OSError),
            abort=lambda: httpd_alive(balancer.container),
        )
    except WaitTimeout as exc:
        raise BalancerStartError(
            f"httpd + mod_cluster ({balancer.source.identity}) is not ready: {exc}\n"
            f"--- httpd.conf ---\n{balancer.config}"
        ) from exc
    except HttpdGone as exc:
        error_log = _error_log_tail(balancer.container, 25)
        silent = (
            ", writing nothing to its error_log (a crash or a kill, not a refusal)" if error_log == "(empty)" else ""
        )
        raise BalancerStartError(
            f"httpd + mod_cluster ({balancer.source.identity}) did not stay up: {exc}{silent}\n"
            f"--- container log tail (httpd's start output) ---\n{container_logs(balancer.container, tail=15)}\n"
            f"--- error_log tail ---\n{error_log}\n--- httpd.conf ---\n{balancer.config}"
        ) from exc
    except ContainerExited as exc:
        raise start_failure(balancer.container, balancer.source, balancer.config, exc) from exc
    except McmpProtocolError as exc:  # it answers, but not VERSION: a configuration problem, not a slow start
        raise VersionRefused(
            f"httpd + mod_cluster ({balancer.source.identity}) answers MCMP but not VERSION: "
            f"{exc}\n--- error_log tail ---\n{_error_log_tail(balancer.container)}"
        ) from exc


def start_httpd_balancer(
    scope: Resources,
    network: Any,
    spec: BalancerSpec,
    source: ModClusterSource,
    *,
    advertise: Advertise | None = None,
    image: str | None = None,
    name: str = "balancer",
    timeout: float = 30.0,
) -> HttpdBalancer:
    """Start the balancer container on `network` under alias `name` and wait until it answers. A spec the
    build cannot render is refused (ConfigError naming the field) before the container is created."""
    tag = image or image_for(scope.client, source)
    build = build_of(scope.client, tag, source)
    config = render_for(spec, source, build, advertise)
    container = scope.container(
        tag,
        name=name,
        role="balancer",
        network=network,
        alias=name,
        files={CONF_PATH: config.encode()},
        cap_add=["NET_ADMIN"],
    )
    try:
        ip = container_ip(container, network.name)
    except ContainerExited as exc:
        raise start_failure(container, source, config, exc) from exc
    balancer = HttpdBalancer(
        container=container, spec=spec, source=source, build=build, ip=ip, config=config, name=name
    )
    wait_ready(balancer, timeout)
    return balancer
