"""Integration-test harness for Apache httpd + mod_cluster clusters.

Layers (dependencies point down): descriptions (topology) -> pure logic (mcmp, advertise, parsers,
history, checks) -> machinery (engine, images, resources, cluster, faults, load, evidence) -> entry points
(pytest_plugin, cli).
"""

__version__ = "0.1.0"
