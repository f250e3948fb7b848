"""Tomcat worker nodes in containers (the `Node` contract): Debian's tomcat10 on JRE 17 with the test WAR.

The container's main process only follows the console log (`tomcat-ctl keep`); the JVM is started in the
background with `docker exec tomcat-ctl start`. So `kill()` (SIGKILL to the JVM) leaves the container and its
address, `stop()` is graceful (SIGTERM: Tomcat's shutdown hook stops the connectors, then the web apps), and
`start()` starts it again with the same configuration. A connector Tomcat refuses to start (an AJP connector
with secretRequired and no secret, a port in use) ends `wait_ready` at once with the lines Tomcat logged.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from harness.descriptions.faults import FaultSpec
from harness.descriptions.node import NodeSpec
from harness.flavors.tomcat import conf
from harness.flavors.wildfly import war
from harness.flavors.wildfly.node import tar_of
from harness.machinery import images
from harness.machinery.containers import container_alive, container_file_text, container_ip, container_logs
from harness.machinery.resources import Resources
from harness.machinery.waiting import Deadline, wait_until

IMAGE_NAME = "tomcat-node"
CONSOLE_LOG = "/opt/harness/log/console.log"
ACCESS_LOG = f"{conf.CATALINA_BASE}/logs/access.log"
SERVER_XML = f"{conf.CATALINA_BASE}/conf/server.xml"
CONTEXT_XML = f"{conf.CATALINA_BASE}/conf/context.xml"
JAVA_OPTS = "/opt/harness/run/java.opts"
VERSIONS = "/opt/versions.txt"
WEBAPPS = f"{conf.CATALINA_BASE}/webapps"
# Lines of a connector Tomcat could not initialise or start (it goes on starting without it).
_CONNECTOR_FAILURE = re.compile(r"SEVERE .*(Connector|ProtocolHandler|AJP|ajp)|secretRequired|Address already in use")


class TomcatNodeError(RuntimeError):
    """A Tomcat node failed to start, stop or take a command; the message carries what Tomcat logged."""


def tomcat_image(client: Any) -> str:
    return images.build(client, images.ImageRequest(IMAGE_NAME))


def connector_failures(log: str) -> list[str]:
    """The lines of a console log that say a connector was refused (with the exception line after each)."""
    lines = log.splitlines()
    found: list[str] = []
    for index, line in enumerate(lines):
        if _CONNECTOR_FAILURE.search(line):
            found += [line.strip()] + [
                extra.strip()
                for extra in lines[index + 1 : index + 2]
                if extra.startswith(("\t", " ", "java.", "org.", "Caused"))
            ]
    return list(dict.fromkeys(found))


@dataclass
class TomcatNode:
    """One Tomcat node: its container, address, and the fault verbs (HOUSE rule 9)."""

    spec: NodeSpec
    container: Any = field(repr=False)  # testcontainers DockerContainer
    ip: str = ""
    http: requests.Session = field(default_factory=requests.Session, repr=False)

    def __post_init__(self) -> None:
        self.http.trust_env = False

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def docker(self) -> Any:
        return self.container.get_wrapped_container()

    def ctl(self, *args: str, check: bool = True) -> str:
        code, output = self.docker.exec_run(["tomcat-ctl", *args])
        text = str(output.decode(errors="replace"))
        if check and code != 0:
            raise TomcatNodeError(f"{self.name}: `tomcat-ctl {' '.join(args)}` exited {code}: {text[-1500:]}")
        return text

    def put_files(self, files: Mapping[str, bytes]) -> None:
        if not self.docker.put_archive("/", tar_of(files)):
            raise TomcatNodeError(f"{self.name}: copying {', '.join(files)} into the container failed")

    def configure(self) -> None:
        """server.xml, context.xml, JVM options and one WAR per context, before the JVM starts."""
        files = {
            SERVER_XML: conf.render_server_xml(self.spec).encode(),
            CONTEXT_XML: conf.CONTEXT_XML.encode(),
            JAVA_OPTS: conf.java_opts(self.spec, os.environ.get("HARNESS_TOMCAT_JVM", conf.JVM_SIZING)).encode(),
        }
        for context in self.spec.contexts:
            files[f"{WEBAPPS}/{war.war_name(context)}"] = war.build_war(context)
        self.put_files(files)

    def state(self) -> str:
        """stopped | starting | started."""
        return self.ctl("state").strip()

    def log_tail(self, lines: int = 40) -> str:
        return container_file_text(self.container, CONSOLE_LOG, tail=lines)

    def alive(self) -> None:
        """An `abort=` for waits: the container gone (ContainerExited), or a connector Tomcat refused."""
        container_alive(self.container)
        failures = connector_failures(self.ctl("log", check=False))
        if failures:
            raise TomcatNodeError(f"{self.name}: Tomcat refused a connector:\n" + "\n".join(failures))

    def url(self, context: str = "/app") -> str:
        return f"http://{self.ip}:{self.spec.http_port}{context.rstrip('/')}/"

    def answers(self, context: str = "/app") -> bool:
        reply = self.http.get(self.url(context), timeout=5)
        return reply.status_code == 200 and reply.headers.get(war.NODE_HEADER) == self.name

    def wait_ready(self, timeout: float = 60.0) -> None:
        """ "Server startup in" logged with every connector started, then each context answering with this
        node's name over HTTP (which compiles the JSP before the balancer's first request)."""
        deadline = Deadline(timeout)
        state = wait_until(
            lambda: (s := self.state()) != "starting" and s,
            timeout=timeout,
            interval=0.2,
            what=f"Tomcat {self.name} to log 'Server startup in'",
            abort=self.alive,
            describe=self.log_tail,
        )
        if state != "started":
            raise TomcatNodeError(f"{self.name}: Tomcat {state} while starting\n{self.log_tail()}")
        self.alive()
        for context in self.spec.contexts:
            self._wait_answers(context, max(deadline.remaining(), 1.0))

    def _wait_answers(self, context: str, timeout: float) -> None:
        wait_until(
            lambda: self.answers(context),
            timeout=timeout,
            interval=0.2,
            what=f"{self.name} to answer {self.url(context)}",
            describe=self.log_tail,
            abort=self.alive,
        )

    # --- fault verbs ----------------------------------------------------------------------------------------
    def kill(self) -> None:
        """SIGKILL to the JVM; the container and its address stay."""
        self.ctl("kill", "KILL")
        wait_until(
            lambda: self.state() == "stopped",
            timeout=10,
            interval=0.1,
            what=f"Tomcat {self.name} JVM to die after SIGKILL",
            describe=self.log_tail,
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful: SIGTERM (connectors paused and stopped, web apps stopped, sessions saved), then wait."""
        self.ctl("stop")
        wait_until(
            lambda: self.state() == "stopped",
            timeout=timeout + 30.0,
            interval=0.2,
            what=f"Tomcat {self.name} to stop",
            describe=self.log_tail,
        )

    def start(self, timeout: float = 60.0) -> None:
        """Start the JVM again (after kill or stop) and wait until it is ready."""
        self.ctl("start")
        self.wait_ready(timeout)

    def logs(self) -> str:
        return container_logs(self.container)

    def apply_fault(self, fault: FaultSpec) -> Callable[[], None]:
        raise TomcatNodeError(f"{self.name}: Tomcat has no node-specific handling for fault {fault.kind}")

    def versions(self) -> dict[str, str]:
        """Debian's package versions, written by the image build (`tomcat10 10.1.x`, the JRE's)."""
        lines = container_file_text(self.container, VERSIONS).splitlines()
        return {
            ("tomcat" if name == "tomcat10" else name): version
            for name, _, version in (line.partition(" ") for line in lines)
        }

    def evidence_files(self) -> dict[str, str]:
        files = {"server.xml": conf.render_server_xml(self.spec), "java.opts": conf.java_opts(self.spec)}
        for name, path in (("console.log", CONSOLE_LOG), ("access.log", ACCESS_LOG)):
            files[name] = container_file_text(self.container, path)
        return files


def start_tomcat_node(
    scope: Resources,
    image: str,
    spec: NodeSpec,
    network: Any,
    *,
    ipv4: str | None = None,
    wait: bool = True,
    timeout: float = 60.0,
) -> TomcatNode:
    """A started Tomcat node reachable on `network` as `spec.name`; ready unless wait=False."""
    container = scope.container(
        image, name=spec.name, role="node", network=network, alias=spec.name, ipv4=ipv4, cap_add=["NET_ADMIN"]
    )
    node = TomcatNode(spec, container, container_ip(container, network.name))
    node.configure()
    node.ctl("start")
    if wait:
        node.wait_ready(timeout)
    return node
