"""One test's run: the clusters it starts, the load it drives, the verdicts it reaches, and its evidence.

The pytest fixture `scenario` hands a `ScenarioRun` to a test and calls `finish()` after it: load is
stopped, evidence is collected (always on failure, on request otherwise) before anything is removed, then
clusters are torn down in reverse order keeping the first error.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.descriptions.faults import FaultSpec
from harness.descriptions.options import HarnessOptions
from harness.descriptions.topology import LoadProfile, Topology
from harness.flavors import registry
from harness.flavors.base import FlavorRefused, FlavorUnavailable
from harness.flavors.httpd_modcluster.flavor import source_versions
from harness.judge.checks import Verdict
from harness.judge.history import FaultWindow, History
from harness.machinery.load import LoadRun
from harness.machinery.resources import Resources
from harness.run.cluster import Cluster
from harness.run.faults import inject


class ScenarioRun:
    def __init__(
        self, client: Any, options: HarnessOptions, nodeid: str, on_unavailable: Callable[[str], Any] | None = None
    ) -> None:
        """`on_unavailable(reason)` is called when a flavor cannot run here or refuses what the test asks
        (pytest: skip with the reason); without it the error is raised."""
        self.client, self.options, self.nodeid = client, options, nodeid
        self.on_unavailable = on_unavailable
        self.clusters: list[Cluster] = []
        self.loads: list[LoadRun] = []
        self.verdicts: list[Verdict] = []
        self.attachments: dict[str, str] = {}
        self.started = time.time()
        # more files for the evidence: name -> JSON-ready data, or a function giving it when evidence is collected
        self.evidence_json: dict[str, Any] = {}
        self.children: list[ScenarioRun] = []
        self.finished = False

    def child(self, label: str) -> ScenarioRun:
        """A fresh run inside this test (its own clusters, loads, verdicts and evidence folder, named
        "<test id>::<label>"): repeated runs of one reproduction. Finish it with `finish()`; one left
        unfinished is finished with this run."""
        run = ScenarioRun(self.client, self.options, f"{self.nodeid}::{label}", self.on_unavailable)
        self.children.append(run)
        return run

    @property
    def evidence_path(self) -> Path:
        """Where this run's evidence goes when it is collected."""
        from harness.machinery.evidence import evidence_name

        return self.options.evidence_dir / evidence_name(self.nodeid)

    # --- building blocks --------------------------------------------------------------------------------
    def topology(
        self,
        name: str,
        nodes: int = 2,
        *,
        discovery: Any = None,
        balancer: dict[str, Any] | None = None,
        **node_fields: Any,
    ) -> Topology:
        """A topology of the selected flavors (--balancer, --node-flavor): node1..nodeN with what those
        flavors need (registry.topology_for: default discovery, node fields, fast status ticks)."""
        return registry.topology_for(self.options, name, nodes, discovery=discovery, balancer=balancer, **node_fields)

    def cluster(
        self,
        topology: Topology,
        *,
        ready_timeout: float = 180.0,
        faults: Sequence[FaultSpec] = (),
        nodes_per_container: int = 1,
    ) -> Cluster:
        """Start `topology` and wait until it is healthy. Torn down after the test. `faults` the test will
        inject are checked against the flavors first, so a fault nobody can take is refused before start.
        `nodes_per_container` > 1 packs consecutive nodes into shared containers (flavors that can; others
        are refused naming them)."""
        try:
            for fault in faults:
                registry.validate_fault(topology, fault)
        except FlavorRefused as exc:
            self._unavailable(exc)
        scope = Resources(self.client, scope=f"{topology.name}-{len(self.clusters)}", keep=self.options.keep_on_failure)
        cluster = Cluster(topology, scope, self.options, nodes_per_container=nodes_per_container)
        self.clusters.append(cluster)
        try:
            cluster.start(ready_timeout)
        except (FlavorUnavailable, FlavorRefused) as exc:
            self._unavailable(exc)
        cluster.record_state("ready")
        return cluster

    def load(self, cluster: Cluster, profile: LoadProfile = LoadProfile()) -> LoadRun:
        """Start Locust against the cluster's proxy (out of process); stopped after the test at the latest."""
        out = cluster.scope.temp_dir(f"load{len(self.loads)}")
        run = LoadRun()
        run.start(cluster.url(""), profile, out)
        self.loads.append(run)
        return run

    @contextmanager
    def fault(self, cluster: Cluster, fault: FaultSpec, **kwargs: Any) -> Iterator[FaultWindow]:
        try:
            registry.validate_fault(cluster.topology, fault)
        except FlavorRefused as exc:
            self._unavailable(exc)
        with inject(cluster, fault, **kwargs) as window:
            yield window

    def _unavailable(self, exc: Exception) -> None:
        if self.on_unavailable is None:
            raise exc
        self.on_unavailable(str(exc))

    def judge(self, *verdicts: Verdict) -> list[Verdict]:
        """Record verdicts for the evidence; the test asserts on them."""
        self.verdicts.extend(verdicts)
        return list(verdicts)

    def attach(self, name: str, text: str) -> None:
        """A text file for the evidence folder (written when evidence is collected), e.g. a transcript;
        `name` is a relative path inside the folder. A later attach under the same name replaces it."""
        if not name or name.startswith("/") or ".." in name.split("/"):
            raise ValueError(f"attach: {name!r} is not a relative path inside the evidence folder")
        self.attachments[name] = text

    def history(self, load: LoadRun) -> History:
        """The recorded requests of a load run, with every fault window of every cluster."""
        windows = [w for c in self.clusters for w in c.windows]
        return History(tuple(load.records()), tuple(windows))

    # --- the end ----------------------------------------------------------------------------------------
    def finish(self, failed: bool) -> Path | None:
        self.finished = True
        first: BaseException | None = None
        for child in reversed(self.children):
            if not child.finished:
                try:
                    child.finish(failed)
                except Exception as exc:
                    first = first or exc
        for load in reversed(self.loads):
            try:
                load.stop()
            except Exception as exc:
                first = first or exc
        folder = None
        if failed or self.options.collect_evidence:
            try:
                folder = self.collect_evidence(failed)
            except Exception as exc:
                first = first or exc
        if not (failed and self.options.keep_on_failure):
            for cluster in reversed(self.clusters):
                try:
                    cluster.close()
                except Exception as exc:
                    first = first or exc
        if first is not None:
            raise first
        return folder

    def collect_evidence(self, failed: bool) -> Path:
        from harness.machinery.evidence import Evidence, evidence_folder

        evidence = Evidence(evidence_folder(self.options.evidence_dir, self.nodeid))
        evidence.add_json(
            "run.json", {"test": self.nodeid, "failed": failed, "started": self.started, "finished": time.time()}
        )
        for index, cluster in enumerate(self.clusters):
            _cluster_evidence(evidence, cluster, prefix="" if index == 0 else f"cluster{index}/")
        for index, load in enumerate(self.loads):
            for name, path in load.evidence_files().items():
                evidence.add_file(f"load{index}/{name}", path)
            if index == 0:
                evidence.add_history(self.history(load))
        for name, data in self.evidence_json.items():
            evidence.add_json(name, data() if callable(data) else data)
        for name, text in self.attachments.items():
            evidence.add_text(name, text)
        evidence.write_summary(title=self.nodeid, verdicts=self.verdicts)
        return evidence.folder


def cluster_versions(cluster: Cluster) -> dict[str, str]:
    """What the cluster ran (Cluster.versions), and for an httpd-modcluster balancer the source's release and
    commit and the image's httpd even when the balancer never started."""
    versions = {}
    if cluster.topology.balancer.flavor == "httpd-modcluster":
        versions.update(source_versions(cluster.options.modcluster_source, cluster.scope.client))
    versions.update(cluster.versions())
    return versions


def _cluster_evidence(evidence: Any, cluster: Cluster, prefix: str) -> None:
    from harness.machinery.containers import container_logs

    evidence.add_topology(cluster.topology, name=f"{prefix}topology.json")
    evidence.add_versions({f"{prefix}{key}": value for key, value in cluster_versions(cluster).items()})
    evidence.add_json(f"{prefix}timings.json", cluster.timings)
    evidence.add_json(f"{prefix}windows.json", [w.__dict__ for w in cluster.windows])
    for label, state in cluster.states:
        evidence.add_state(f"{prefix}{label}", state)
    balancer = cluster.balancer
    if balancer is not None:
        evidence.add_text(f"{prefix}balancer/container.log", container_logs(balancer.container))
        try:
            evidence.add_text(f"{prefix}balancer/version.txt", balancer.version())
        except Exception as exc:
            evidence.add_text(f"{prefix}balancer/version.txt", f"(unavailable: {exc})")
        try:
            for file_name, text in balancer.evidence_files().items():
                evidence.add_text(f"{prefix}balancer/{file_name}", text)
        except Exception as exc:
            evidence.add_text(f"{prefix}balancer/evidence-error.txt", str(exc))
    for name, node in cluster.nodes.items():
        evidence.add_text(f"{prefix}{name}/container.log", container_logs(node.container))
        try:
            for file_name, text in node.evidence_files().items():
                evidence.add_text(f"{prefix}{name}/{file_name}", text)
        except Exception as exc:
            evidence.add_text(f"{prefix}{name}/evidence-error.txt", str(exc))
