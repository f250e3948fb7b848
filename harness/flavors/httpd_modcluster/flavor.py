"""Balancer flavor `httpd-modcluster`: Apache httpd 2.4 with mod_cluster compiled from the source you name."""

from __future__ import annotations

import dataclasses
import os
from typing import Any, ClassVar

from harness.descriptions.balancer import BalancerSpec
from harness.descriptions.node import Advertise, StaticProxies
from harness.descriptions.options import HarnessOptions, OptionError
from harness.flavors.base import BalancerFlavor, ClusterContext, FlavorRefused, FlavorUnavailable
from harness.flavors.httpd_modcluster import source as modcluster_source
from harness.flavors.httpd_modcluster.balancer import (
    HttpdBalancer,
    build_of,
    image_for,
    image_request,
    start_httpd_balancer,
)
from harness.flavors.httpd_modcluster.conf import ConfigError
from harness.machinery import images

_SOURCES: dict[str, modcluster_source.ModClusterSource] = {}
NO_SOURCE = (
    "httpd + mod_cluster needs a source: set --modcluster-source (or HARNESS_MODCLUSTER_SOURCE) to a "
    "checkout of modcluster/mod_proxy_cluster or modcluster/mod_cluster 1.3.x, a git-url@ref or an archive"
)


def source_for(given: str | None) -> modcluster_source.ModClusterSource:
    """The source tree for this process (resolved once; a git URL is cloned once).

    No source given: FlavorUnavailable (a skip naming the option). A source given that cannot be used: an
    OptionError naming --modcluster-source (an error, never a skip)."""
    if not given or given.lower() == OPT_OUT:
        raise FlavorUnavailable(NO_SOURCE)
    if given not in _SOURCES:
        try:
            _SOURCES[given] = modcluster_source.resolve(given)
        except modcluster_source.SourceError as exc:
            raise OptionError(f"--modcluster-source (or HARNESS_MODCLUSTER_SOURCE) = {given!r}: {exc}") from exc
    return _SOURCES[given]


def source_versions(given: str | None, client: Any = None) -> dict[str, str]:
    """The source's release and commit for reports and evidence ({} without a source; says when unusable);
    with a docker client and the source's image present, httpd's version and the build method from the image
    (for a balancer that never started)."""
    if not given or given.lower() == OPT_OUT:
        return {}
    try:
        source = source_for(given)
    except OptionError as exc:
        return {"mod_cluster": f"{given} (unusable: {exc})"}
    found = {
        "mod_cluster": f"{source.release} (line {source.line}, {source.build_method} build) from {given}",
        "mod_cluster commit": source.commit,
    }
    request = image_request(source)
    try:
        if client is not None and images.is_present(client, request):
            build = build_of(client, images.build(client, request), source)
            found.update({"mod_cluster build": f"{build.build_method} ({source.line})", "httpd": build.httpd})
    except Exception as exc:  # evidence and reports say what they could not read, never fail for it
        found["httpd"] = f"(unavailable: {type(exc).__name__}: {exc})"
    return found


OPT_OUT = "none"  # --modcluster-source none: no source, no default fetch
NO_DEFAULT_ENV = "HARNESS_NO_DEFAULT_SOURCE"  # 1: never probe or fetch the pinned release
HOW_TO_GIVE = "for httpd + mod_cluster give --modcluster-source PATH|GIT-URL@REF|ARCHIVE"


def apply_default_source(
    options: HarnessOptions,
    *,
    balancer_given: bool,
    release: modcluster_source.PinnedRelease = modcluster_source.PINNED,
    probe: Any = modcluster_source.upstream_answers,
) -> tuple[HarnessOptions, str]:
    """Options with the default mod_cluster source applied, and one line saying what happened ("" for none).

    No source given (and no opt-out: `--modcluster-source none`, HARNESS_NO_DEFAULT_SOURCE=1), the balancer
    left at its default or set to httpd-modcluster, proxy_cluster mode: when the upstream git host answers,
    the pinned release is fetched (cached, commit checked) and used with the httpd-modcluster balancer;
    when it does not, the options stay (the Undertow balancer by default) and the line says how to give one."""
    if (options.modcluster_source or "").lower() == OPT_OUT:
        return dataclasses.replace(options, modcluster_source=None), ""
    opted_out = os.environ.get(NO_DEFAULT_ENV, "").lower() in ("1", "true", "yes", "on")
    wants_httpd = not balancer_given or options.balancer == HttpdModclusterFlavor.name
    if options.modcluster_source or opted_out or not wants_httpd or options.modcluster_mode != "proxy_cluster":
        return options, ""
    fallback = f"the balancer is {options.balancer}" if not balancer_given else "httpd tests are skipped"
    if not probe(release.url):
        return options, f"mod_cluster: {release.url} does not answer, so {fallback}; {HOW_TO_GIVE}"
    try:
        tree = modcluster_source.fetch_pinned(release)
    except modcluster_source.SourceError as exc:
        return options, f"mod_cluster: {exc}; so {fallback}; {HOW_TO_GIVE}"
    chosen = dataclasses.replace(options, balancer=HttpdModclusterFlavor.name, modcluster_source=str(tree))
    return chosen, (
        f"mod_cluster: the pinned release {release.tag} ({release.commit[:12]}) from {release.url}, "
        f"cached in {tree} (opt out: --modcluster-source none)"
    )


class HttpdModclusterFlavor(BalancerFlavor):
    name: ClassVar[str] = "httpd-modcluster"
    image: ClassVar[str] = "httpd-modcluster"
    summary: ClassVar[str] = (
        "Apache httpd 2.4 + mod_cluster compiled from `--modcluster-source` (1.3.x or 2.x; "
        "proxy_cluster or lbmethod_cluster mode)"
    )
    honours: ClassVar[frozenset[str]] = frozenset(f.name for f in dataclasses.fields(BalancerSpec)) - {"jk"}
    discovery: ClassVar[tuple[type[Any], ...]] = (Advertise, StaticProxies)
    faults: ClassVar[frozenset[str]] = frozenset({"balancer_restart", "advertise_blocked", "partition"})
    inputs: ClassVar[tuple[str, ...]] = ("--modcluster-source", "--modcluster-mode")

    def validate_options(self, options: HarnessOptions) -> None:
        if not options.modcluster_source or options.modcluster_source.lower() == OPT_OUT:
            return
        source = source_for(options.modcluster_source)
        if options.modcluster_mode == "lbmethod_cluster" and source.line != "2.x":
            raise OptionError(
                f"--modcluster-mode (or HARNESS_MODCLUSTER_MODE) = 'lbmethod_cluster' needs a 2.x "
                f"source (mod_lbmethod_cluster); {options.modcluster_source} is {source.release}"
            )

    def resolve(self, spec: BalancerSpec, options: HarnessOptions) -> BalancerSpec:
        """--modcluster-mode applies to a balancer left at the default mode (a topology that names its mode
        keeps it)."""
        if spec.mode == "proxy_cluster" and options.modcluster_mode != spec.mode:
            return dataclasses.replace(spec, mode=options.modcluster_mode)
        return spec

    def image_tag(self, client: Any, options: HarnessOptions) -> str:
        return image_for(client, source_for(options.modcluster_source))

    def start(self, context: ClusterContext) -> HttpdBalancer:
        """A spec field the built modules cannot render (a directive this build does not register) is refused,
        naming the field and the build, before the container is created."""
        source = source_for(context.options.modcluster_source)
        try:
            return start_httpd_balancer(
                context.scope, context.network, context.topology.balancer, source, advertise=context.advertise
            )
        except ConfigError as exc:
            raise FlavorRefused(f"balancer.{exc.field}", self.name, exc.message) from exc


FLAVOR = HttpdModclusterFlavor()
