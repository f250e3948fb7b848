"""What a built httpd-modcluster image has, read from the image, and what a `BalancerSpec` needs of it.

The image's build step (images/httpd-modcluster/build-modules.sh) loads the modules it compiled into apache2
and writes CAPABILITIES_PATH: the build method, httpd's version, the module files and every directive those
modules register (`apache2 -L`), with the source file that registers it. The renderer (conf.py) spells and
chooses directives from that set, never from a release number: a build that lacks a directive a spec field
needs is refused naming the field (`refusal`), and the MCMP receive directive is the spelling the build has.

For the record (seen in the builds, documentation only, never used as a rule): `EnableMCMPReceive` appears in
mod_cluster 1.3.21.Final and in mod_proxy_cluster 2.x from ac34872 (2024-02-16, MODCLUSTER-551) on; mod_cluster
1.3.0 .. 1.3.20 and earlier 2.x commits (e.g. de77979, 2023-12-21) know only `EnableMCPMReceive`. 2.x commits
before b9000df (2023-05-25) build `mod_cluster_slotmem.so`, loaded instead of httpd's mod_slotmem_shm.
`WSUpgradeHeader` appears in 1.3.13.Final, `UseNocanon` in 1.3.18.Final. `EnableWsTunnel` and `WSUpgradeHeader`
need mod_proxy_wstunnel loaded in 1.3 and in 2.x before 04b9175 (2023-11-01): the build says so (`needs`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harness.descriptions.balancer import BalancerSpec
from harness.descriptions.base import SpecError, validate_choice
from harness.descriptions.node import Advertise

CAPABILITIES_PATH = "/opt/mod_cluster/capabilities.txt"
LINES = ("1.3", "2.x")
RECEIVE_SPELLINGS = ("EnableMCMPReceive", "EnableMCPMReceive")  # preferred first
UNKNOWN = "unknown"
# The module each mode loads, and the source file of the alternative (whose directives that mode lacks).
MODE_MODULE = {"proxy_cluster": "mod_proxy_cluster.so", "lbmethod_cluster": "mod_lbmethod_cluster.so"}
MODE_EXCLUDES = {"proxy_cluster": "mod_lbmethod_cluster.c", "lbmethod_cluster": "mod_proxy_cluster.c"}
# BalancerSpec field -> the mod_cluster directive rendered when the field is set (not None / not False).
FIELD_DIRECTIVES = {
    "max_node": "Maxnode", "max_host": "Maxhost", "max_context": "Maxcontext", "max_sessionid": "Maxsessionid",
    "max_mcmp_mess_size": "MaxMCMPMessSize", "mem_manager_file": "MemManagerFile", "persist_slots": "PersistSlots",
    "check_nonce": "CheckNonce", "allow_display": "AllowDisplay", "allow_cmd": "AllowCmd",
    "reduce_display": "ReduceDisplay", "enable_ws_tunnel": "EnableWsTunnel", "ws_upgrade_header": "WSUpgradeHeader",
    "use_alias": "UseAlias", "enable_options": "EnableOptions", "use_nocanon": "UseNocanon",
    "lbstatus_recal_time_s": "LBstatusRecalTime", "wait_before_remove_s": "WaitBeforeRemove",
    "hcheck": "ModProxyClusterHCTemplate", "advertise_manager_url": "AdvertiseManagerUrl",
    "advertise_bind_address": "AdvertiseBindAddress",
}  # fmt: skip
ADVERTISE_DIRECTIVES = ("ServerAdvertise", "AdvertiseGroup", "AdvertiseFrequency")


class CapabilityError(ValueError):
    """The image's capabilities file is missing or unreadable (names the file and the line)."""


@dataclass(frozen=True)
class ModClusterBuild:
    """The mod_cluster httpd modules installed in an image: modules (file names), the directives they register
    as (source file, name) pairs, how they were built, the httpd they were built for, and what from."""

    line: str
    modules: frozenset[str]
    directives: frozenset[tuple[str, str]]
    needs: frozenset[tuple[str, str]] = frozenset()  # (directive, httpd module file it needs loaded)
    build_method: str = UNKNOWN
    httpd: str = UNKNOWN
    release: str = UNKNOWN
    commit: str = UNKNOWN

    def __post_init__(self) -> None:
        validate_choice("line", self.line, LINES)

    @classmethod
    def of(
        cls,
        line: str,
        directives: Iterable[str],
        modules: Iterable[str] = (),
        source_file: str = "mod_manager.c",
        needs: Iterable[tuple[str, str]] = (),
    ) -> ModClusterBuild:
        """A build from bare names (tests, documentation): every directive attributed to `source_file`; the
        modules default to the usual set of the line."""
        names = tuple(modules) or (
            ("mod_manager.so", "mod_proxy_cluster.so", "mod_advertise.so", "mod_cluster_slotmem.so")
            if line == "1.3"
            else ("mod_manager.so", "mod_proxy_cluster.so", "mod_advertise.so", "mod_lbmethod_cluster.so")
        )
        return cls(line, frozenset(names), frozenset((source_file, d) for d in directives), frozenset(needs))

    @property
    def label(self) -> str:
        commit = self.commit[:12] if self.commit != UNKNOWN else ""
        return " ".join(part for part in (self.release if self.release != UNKNOWN else self.line, commit) if part)

    def has_module(self, name: str) -> bool:
        return name in self.modules

    def registers(self, directive: str, mode: str = "proxy_cluster") -> bool:
        """Whether a module loaded in `mode` registers `directive` (the alternative mode's module is not loaded)."""
        excluded = MODE_EXCLUDES.get(mode, "")
        return any(name == directive and source != excluded for source, name in self.directives)

    def receive_directive(self, mode: str = "proxy_cluster") -> str | None:
        """The spelling of the MCMP receive directive this build has (EnableMCMPReceive preferred), or None."""
        return next((d for d in RECEIVE_SPELLINGS if self.registers(d, mode)), None)

    @property
    def slotmem_module(self) -> tuple[str, str]:
        """(identifier, file) of the slot memory provider mod_manager uses with this build."""
        if self.has_module("mod_cluster_slotmem.so"):
            return "cluster_slotmem", "mod_cluster_slotmem.so"
        return "slotmem_shm", "mod_slotmem_shm.so"


def parse_capabilities(text: str, line: str, release: str = UNKNOWN, commit: str = UNKNOWN) -> ModClusterBuild:
    """The build described by a capabilities file (CapabilityError naming the line when it is not one)."""
    modules: set[str] = set()
    directives: set[tuple[str, str]] = set()
    needs: set[tuple[str, str]] = set()
    facts = {"build-method": UNKNOWN, "httpd": UNKNOWN}
    for number, raw in enumerate(text.splitlines(), 1):
        key, _, rest = raw.strip().partition(" ")
        if not key:
            continue
        if key in facts:
            facts[key] = rest.strip() or UNKNOWN
        elif key == "module" and rest.strip().endswith(".so"):
            modules.add(rest.strip())
        elif key == "directive" and len(rest.split()) == 2:
            source, name = rest.split()
            directives.add((source, name))
        elif key == "needs" and len(rest.split()) == 2 and rest.endswith(".so"):
            name, module = rest.split()
            needs.add((name, module))
        else:
            raise CapabilityError(f"{CAPABILITIES_PATH} line {number}: {raw!r} is not a capability line")
    if not modules:
        raise CapabilityError(f"{CAPABILITIES_PATH}: no `module` line (the image built no module?)")
    return ModClusterBuild(
        line,
        frozenset(modules),
        frozenset(directives),
        frozenset(needs),
        build_method=facts["build-method"],
        httpd=facts["httpd"],
        release=release,
        commit=commit,
    )


def needed_modules(spec: BalancerSpec, build: ModClusterBuild) -> list[str]:
    """httpd module files the directives rendered for `spec` need loaded (mod_proxy_wstunnel.so for
    EnableWsTunnel / WSUpgradeHeader on builds that say so), in FIELD_DIRECTIVES order, each once."""
    found: list[str] = []
    for name, directive in FIELD_DIRECTIVES.items():
        value = getattr(spec, name)
        if value is None or value is False:
            continue
        for needing, module in sorted(build.needs):
            if needing == directive and module not in found:
                found.append(module)
    return found


def refusal(spec: BalancerSpec, build: ModClusterBuild, advertise: Advertise | None) -> SpecError | None:
    """The first thing `spec` asks of the build that the build lacks, as an error naming the spec field."""
    module = MODE_MODULE.get(spec.mode)
    if module is not None and not build.has_module(module):
        hint = " (only mod_proxy_cluster 2.x builds it)" if spec.mode == "lbmethod_cluster" else ""
        return SpecError("mode", f"{spec.mode!r} needs {module}, which {_built(build)} did not build{hint}")
    if build.receive_directive(spec.mode) is None:
        return SpecError("mode", f"{_built(build)} registers neither {' nor '.join(RECEIVE_SPELLINGS)}")
    for name, directive in FIELD_DIRECTIVES.items():
        value = getattr(spec, name)
        if value is not None and value is not False and not build.registers(directive, spec.mode):
            return SpecError(name, f"renders {directive}, which {_built(build)} does not register in {spec.mode} "
                                   "mode; use None")  # fmt: skip
    if advertise is not None:
        needed = ADVERTISE_DIRECTIVES + (("AdvertiseSecurityKey",) if advertise.security_key is not None else ())
        for directive in needed:
            if not build.has_module("mod_advertise.so") or not build.registers(directive, spec.mode):
                return SpecError("server_advertise", f"advertising renders {directive}, which {_built(build)} "
                                                     "does not register")  # fmt: skip
    return None


def _built(build: ModClusterBuild) -> str:
    return f"the {build.label or build.line} build"
