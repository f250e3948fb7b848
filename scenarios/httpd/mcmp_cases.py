"""The targeted MCMP conformance cases: short message sequences, each on its own JVMRoutes and ports
(`Names`), so all of them can share one balancer. A case is data: a name and the requests it sends; what
the balancer must answer and show after each one comes from the MCMP model. Used by
test_mcmp_conformance.py. The cases themselves are in mcmp_cases_config (CONFIG) and mcmp_cases_commands
(everything else), written with mcmp_case_kit.

Parameters are tried absent, empty, at their longest allowed length and one over, %-encoded, in another
order and repeated; then aliases and contexts added to and removed from a registered node, aliases in
another order, two nodes on one host:port, a node re-registering with changed fields.
"""

from __future__ import annotations

from scenarios.httpd import mcmp_cases_commands, mcmp_cases_config
from scenarios.httpd.mcmp_case_kit import APP_COMMANDS, CASES, LOCAL, Case, Names, app, config, registered, req

assert mcmp_cases_config and mcmp_cases_commands  # imported for the cases they add to CASES, in this order

__all__ = ["APP_COMMANDS", "CASES", "LOCAL", "Case", "Names", "app", "config", "registered", "req"]
