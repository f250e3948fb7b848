"""The harness's user-facing options, shared by the pytest plugin and the CLI.

Each option has a command-line flag, an environment variable and a default. Values with a fixed vocabulary
are validated here and an unknown value names the option and the accepted values; the flavor names are the
flavor registry's (harness.flavors.registry.validate_options refuses an unknown one the same way).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODCLUSTER_MODES = ("proxy_cluster", "lbmethod_cluster")
DEFAULT_WILDFLY_VERSION = "39.0.1.Final"


@dataclass(frozen=True)
class Option:
    flag: str
    env: str
    help: str
    default: str | None = None
    choices: tuple[str, ...] | None = None
    is_flag: bool = False

    @property
    def dest(self) -> str:
        return "harness_" + self.flag.lstrip("-").replace("-", "_")


OPTIONS = (
    Option("--balancer", "HARNESS_BALANCER", "balancer flavor", "undertow"),
    Option("--node-flavor", "HARNESS_NODE_FLAVOR", "node flavor", "sim"),
    Option(
        "--modcluster-source",
        "HARNESS_MODCLUSTER_SOURCE",
        "mod_cluster httpd sources: a local checkout (mod_proxy_cluster 2.x or mod_cluster 1.3.x), "
        "a git URL with @ref, or a .tar.gz/.zip archive",
    ),
    Option("--modcluster-mode", "HARNESS_MODCLUSTER_MODE", "httpd module mode", "proxy_cluster", MODCLUSTER_MODES),
    Option(
        "--wildfly-version", "HARNESS_WILDFLY_VERSION", "WildFly version from Maven Central", DEFAULT_WILDFLY_VERSION
    ),
    Option("--wildfly-archive", "HARNESS_WILDFLY_ARCHIVE", "local wildfly-dist .tar.gz/.zip instead of Maven Central"),
    Option("--evidence-dir", "HARNESS_EVIDENCE_DIR", "folder for per-test evidence", "evidence"),
    Option(
        "--keep-on-failure",
        "HARNESS_KEEP_ON_FAILURE",
        "keep a failed test's containers (harness sweep --all removes them)",
        is_flag=True,
    ),
    Option("--collect-evidence", "HARNESS_COLLECT_EVIDENCE", "collect evidence for passing tests too", is_flag=True),
    Option("--require-docker", "HARNESS_REQUIRE_DOCKER", "fail (not skip) when no Docker engine answers", is_flag=True),
    Option("--long", "HARNESS_LONG", "run the long tier too (tests marked long: the explorer)", is_flag=True),
    Option("--no-sweep", "HARNESS_NO_SWEEP", "do not sweep leftovers of killed runs at session start", is_flag=True),
)


class OptionError(ValueError):
    pass


def _resolve(option: Option, given: Any) -> Any:
    if option.is_flag:
        if given:
            return True
        return os.environ.get(option.env, "").lower() in ("1", "true", "yes", "on")
    value = given if given is not None else (os.environ.get(option.env) or option.default)
    if value is not None and option.choices and value not in option.choices:
        raise OptionError(
            f"{option.flag} (or {option.env}) = {value!r}: accepted values are {', '.join(option.choices)}"
        )
    return value


@dataclass(frozen=True)
class HarnessOptions:
    balancer: str = "undertow"
    node: str = "sim"
    modcluster_source: str | None = None
    modcluster_mode: str = "proxy_cluster"
    wildfly_version: str = DEFAULT_WILDFLY_VERSION
    wildfly_archive: str | None = None
    evidence_dir: Path = Path("evidence")
    keep_on_failure: bool = False
    collect_evidence: bool = False
    require_docker: bool = False
    long: bool = False
    no_sweep: bool = False

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> HarnessOptions:
        """`values` maps each Option.dest to what the user gave (None when not given)."""
        resolved = {o.dest.removeprefix("harness_"): _resolve(o, values.get(o.dest)) for o in OPTIONS}
        resolved["node"] = resolved.pop("node_flavor")
        resolved["evidence_dir"] = Path(resolved["evidence_dir"])
        return cls(**resolved)

    @classmethod
    def from_pytest(cls, config: Any) -> HarnessOptions:
        return cls.from_values({o.dest: config.getoption(o.dest) for o in OPTIONS})
