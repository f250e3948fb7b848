"""httpd as a process in its container, shared by the httpd flavors (mod_cluster, mod_jk): commands in the
container, a graceful or hard restart, and killing every httpd process while the container and its address
stay (httpd is not PID 1: `start-httpd.sh` in each image starts it)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from harness.descriptions.balancer import MpmSpec
from harness.machinery.containers import exec_in
from harness.machinery.waiting import wait_until

START_SCRIPT = "/usr/local/bin/start-httpd.sh"


def mpm_directives(mpm: MpmSpec) -> list[str]:
    """The event MPM's shape (both httpd flavors render it the same way)."""
    return [
        f"ServerLimit {mpm.server_limit}",
        f"ThreadLimit {mpm.thread_limit}",
        f"StartServers {mpm.start_servers}",
        f"ThreadsPerChild {mpm.threads_per_child}",
        f"MaxRequestWorkers {mpm.max_request_workers}",
        f"MinSpareThreads {mpm.min_spare_threads}",
        f"MaxSpareThreads {mpm.max_spare_threads}",
        f"MaxConnectionsPerChild {mpm.max_connections_per_child}",
    ]


class HttpdProcess(ABC):
    """Mixin for a balancer whose server is httpd; the class names its config, pid file and error type."""

    conf_path: ClassVar[str]
    pid_file: ClassVar[str]
    error: ClassVar[type[Exception]] = RuntimeError

    container: object

    @abstractmethod
    def wait_ready(self, timeout: float = 30.0) -> None: ...

    def exec(self, command: list[str]) -> tuple[int, str]:
        return exec_in(self.container, command)

    def restart(self, graceful: bool = True, timeout: float = 30.0) -> None:
        """Graceful: `apache2 -k graceful`. Hard: SIGKILL every httpd process, then start it again."""
        if graceful:
            self.checked(["apache2", "-f", self.conf_path, "-k", "graceful"])
        else:
            self.kill_httpd()
            self.checked([START_SCRIPT, "start"])
        self.wait_ready(timeout)

    def kill_httpd(self) -> None:
        self.exec(["pkill", "-KILL", "-x", "apache2"])
        wait_until(lambda: self.exec(["pgrep", "-x", "apache2"])[0] != 0, timeout=10, what="httpd processes gone")
        self.exec(["rm", "-f", self.pid_file])

    def checked(self, command: list[str]) -> str:
        """Run `command` in the container; the flavor's error with its output when it exits non-zero."""
        code, output = self.exec(command)
        if code != 0:
            raise self.error(f"`{' '.join(command)}` exited {code}: {output.strip()[-1500:]}")
        return output
