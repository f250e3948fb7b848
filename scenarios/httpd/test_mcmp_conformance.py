"""MCMP conformance of httpd + mod_cluster against the MCMP model (docker tier).

Setup: one balancer-only topology (no nodes) of the httpd-modcluster flavor for the module, compiled from
--modcluster-source (skipped, naming the option, without one), in the --modcluster-mode chosen: Maxnode,
Maxhost and Maxcontext raised so that every case has room (and the balancer's growth in lbmethod_cluster mode),
a single httpd child (one set of proxy workers), EnableOptions off in proxy_cluster mode (an http node's STATUS
is answered without a backend).
Steps, per targeted case (mcmp_cases.CASES, each on its own JVMRoutes and ports): send each message, check
its reply and then INFO and DUMP (text and XML, parsed and compared as data) against the model; the as-built
model (the line's rules with its known bugs) must match, and so must the intended one unless the case hits
a known bug, which makes it a strict expected failure naming the bug. Then a hypothesis state machine
(mcmp_machine) sends generated sequences and checks the same after every step; a failing sequence is
shrunk, kept in the hypothesis database under <evidence>/hypothesis/ and written as an MCMP transcript into
the module's evidence folder. HARNESS_MCMP_EXAMPLES / HARNESS_MCMP_STEPS raise the example count (default
25 examples of up to 15 steps).
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.descriptions.balancer import BalancerSpec, MpmSpec
from harness.descriptions.topology import Topology
from harness.protocol.mcmp_model import McmpModel, ModelConfig, ModelRequest, Undefined
from harness.protocol.mcmp_model_lines import BUGS, LineRules, rules_for
from scenarios.httpd import mcmp_machine
from scenarios.httpd.mcmp_cases import CASES, Case, Names
from scenarios.httpd.mcmp_live import DiffersFromIntended, Session, Target

pytestmark = [pytest.mark.docker, pytest.mark.modcluster_source]
ROOM = {"max_node": 500, "max_host": 1000, "max_context": 1000}
GROWTH = 100  # lbmethod_cluster: workers mod_manager may add to the balancer (httpd's most; never given back)


@pytest.fixture(scope="module")
def target(module_scenario: Any, modcluster_source: Any, harness_options: Any) -> Target:
    return start_target(module_scenario, modcluster_source, harness_options)


def start_target(
    run: Any, modcluster_source: Any, harness_options: Any, name: str = "mcmp", *, shared: bool = True
) -> Target:
    """A balancer-only cluster in `run` (a ScenarioRun) and the model rules for it. `name` must differ
    from the other runs' topologies: container names are made of the process's run id and that name."""
    proxy_cluster = harness_options.modcluster_mode == "proxy_cluster"
    spec = BalancerSpec(
        flavor="httpd-modcluster",
        mpm=MpmSpec.fixed(1),
        enable_options=False if proxy_cluster else None,
        lbmethod_growth=GROWTH,
        **ROOM,
    )
    cluster = run.cluster(Topology(name, spec, ()))
    balancer = cluster.get_balancer()
    rules = rules_for(modcluster_source.line, cluster.topology.balancer.mode)
    release = modcluster_source.release
    config = ModelConfig(enable_options=not proxy_cluster, release=release, sole_user=not shared, growth=GROWTH, **ROOM)
    host, port = balancer.mcmp_address()
    return Target(host, port, rules, config)


def bugs_hit(rules: LineRules, config: ModelConfig, steps: list[ModelRequest]) -> tuple[list[str], bool]:
    """The known bugs whose as-built behaviour changes what this case must see (offline, in the model), and
    whether the as-built behaviour is beyond the model (then only the intended one is checked).
    Undefined when the intended behaviour itself is undefined or the bug's effect is not reproducible."""
    hit, beyond = [], False
    for bug in sorted(rules.bugs):
        plain, buggy = McmpModel(rules, config), McmpModel(rules, config, bugs=frozenset({bug}))
        for step in steps:
            expected = plain.apply(step)
            try:
                differs = buggy.apply(step) != expected or plain.view() != buggy.view()
            except Undefined as exc:
                if not exc.intended_fails:
                    raise
                differs = beyond = True
            if differs:
                hit.append(bug)
                break
    return hit, beyond


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_mcmp_case(case: Case, module_scenario: Any, request: pytest.FixtureRequest) -> None:
    """One targeted case (see mcmp_cases); `isolated` ones on a fresh balancer of their own."""
    if case.isolated:
        run = request.getfixturevalue("scenario")
        options = request.getfixturevalue("harness_options")
        source = request.getfixturevalue("modcluster_source")
        target = start_target(run, source, options, name=f"mcmp-own{CASES.index(case)}", shared=False)
    else:
        run, target = module_scenario, request.getfixturevalue("target")
    steps = case.build(Names(CASES.index(case)))
    try:
        hit, beyond = bugs_hit(target.rules, target.config, steps)
    except Undefined as exc:
        pytest.skip(f"not predictable on {target.rules.label}: {exc}")
    if hit:
        reason = "; ".join(f"{bug}: {BUGS[bug]}" for bug in hit)
        request.applymarker(pytest.mark.xfail(strict=True, raises=DiffersFromIntended, reason=reason))
    session = Session(target, case.name, as_built=not beyond)
    built, intended = [], []
    try:
        for number, step in enumerate(steps, 1):
            b, i = session.send(step)
            built += [f"step {number} ({step.method} {step.body[:60]!r}): {p}" for p in b]
            intended += [f"step {number} ({step.method} {step.body[:60]!r}): {p}" for p in i]
    finally:
        session.cleanup()
        if built or intended:
            run.attach(f"transcripts/{case.name}.txt", session.text())
    assert not built, "differs from the model of the line as built:\n" + "\n".join(built) + "\n\n" + session.text()
    if intended:
        raise DiffersFromIntended("differs from the line's intended behaviour:\n" + "\n".join(intended))


def test_mcmp_sequences(target: Target, module_scenario: Any, harness_options: Any) -> None:
    """Generated message sequences (hypothesis RuleBasedStateMachine) against the as-built model."""
    mcmp_machine.run(target, module_scenario, harness_options.evidence_dir)
