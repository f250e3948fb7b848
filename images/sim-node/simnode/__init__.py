"""A simulated mod_cluster worker node: speaks MCMP like WildFly's mod_cluster subsystem, serves the
harness's backend wire contract over HTTP, and misbehaves on demand. Standard library only (plus the
harness's own `harness.mcmp`, `harness.mcmp_client` and `harness.advertise`, shipped beside it in the image).

Run: `SIMNODE_SPEC='{"nodes": [...], "discovery": {...}}' python3 -m simnode` (see simnode.config).
"""

__version__ = "1.0"
