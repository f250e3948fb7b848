"""Integration-test harness for Apache httpd + mod_cluster clusters.

Layers, one folder each; imports point down only:
spec (descriptions) -> protocol, judge (pure logic) -> machinery (Docker, images, waiting, load, evidence)
-> flavors (one folder per balancer and node flavor) -> run (cluster, faults, scenario) -> entry (pytest, CLI).
"""

__version__ = "0.1.0"
