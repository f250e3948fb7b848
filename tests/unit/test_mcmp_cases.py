"""The targeted MCMP conformance cases (scenarios/httpd/mcmp_cases.py) offline: each builds, keeps to its own
routes and ports, and the model predicts every step on both lines (or says why it cannot)."""

from __future__ import annotations

import pytest

from harness.protocol.mcmp_model import McmpModel, ModelConfig, Undefined, claimed_endpoint
from harness.protocol.mcmp_model_lines import rules_for
from scenarios.httpd.mcmp_cases import CASES, Names

CONFIG = ModelConfig(enable_options=False, max_node=500, max_host=1000, max_context=1000)
# (line, case): no prediction, with the reason the model gives
UNPREDICTABLE = {
    ("2.x", "enable-app-empty-body"): "reads past the last parameter",
    ("1.3", "status-jvmroute-absent"): "uninitialised",
    ("2.x", "status-jvmroute-absent"): "uninitialised",
    ("1.3", "reconfig-changed-port-after-an-older-rename"): "an older one exists",
}


def test_cases_are_many_named_once_and_cover_every_command() -> None:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names)) and len(names) >= 250
    methods = {step.method.upper() for i, case in enumerate(CASES) for step in case.build(Names(i))}
    assert {"CONFIG", "ENABLE-APP", "DISABLE-APP", "STOP-APP", "REMOVE-APP", "STATUS", "PING"} <= methods
    assert {"INFO", "DUMP", "VERSION"} <= methods
    targets = {step.target for i, case in enumerate(CASES) for step in case.build(Names(i))}
    assert targets == {"/", "/*", "*"}


def test_cases_keep_to_their_own_endpoints() -> None:
    owner: dict[tuple[str, str], str] = {}
    for i, case in enumerate(CASES):
        for step in case.build(Names(i)):
            if step.method.upper() == "CONFIG" and step.body:  # an empty body claims httpd's default
                endpoint = claimed_endpoint(step.body)
                assert owner.setdefault(endpoint, case.name) == case.name, (endpoint, case.name, owner[endpoint])


@pytest.mark.parametrize("line", ["1.3", "2.x"])
def test_the_model_predicts_every_case(line: str) -> None:
    rules = rules_for(line)
    for i, case in enumerate(CASES):
        config = ModelConfig(**{**CONFIG.__dict__, "sole_user": case.isolated})
        built = McmpModel(rules, config, bugs=rules.bugs)
        intended = McmpModel(rules, config)
        try:
            for step in case.build(Names(i)):
                assert built.apply(step).replies and intended.apply(step).replies
                built.view()
        except Undefined as exc:
            assert UNPREDICTABLE.get((line, case.name), "?") in str(exc), (line, case.name, str(exc))
        else:
            assert (line, case.name) not in UNPREDICTABLE, case.name
