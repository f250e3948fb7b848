"""Entry point: `python3 -m simnode [--spec JSON | --spec-file PATH | --check]`, else env SIMNODE_SPEC, else
the file named by env SIMNODE_SPEC_FILE (large configurations: hundreds of nodes exceed an env value).

Exit codes: 0 after a graceful stop (SIGTERM/SIGINT), 2 for an invalid configuration (the message
names the field), 3 when a port cannot be opened.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from simnode.config import ConfigError, SimConfig, parse_config_text

log = logging.getLogger("simnode")


def _load(argv: list[str]) -> tuple[SimConfig, bool]:
    parser = argparse.ArgumentParser(prog="simnode", description=__doc__)
    parser.add_argument("--spec", help="the configuration JSON (default: env SIMNODE_SPEC)")
    parser.add_argument("--spec-file", help="a file holding the configuration JSON")
    parser.add_argument("--check", action="store_true", help="validate the configuration and exit")
    args = parser.parse_args(argv)
    if args.spec_file:
        with open(args.spec_file, encoding="utf-8") as handle:
            return parse_config_text(handle.read(), "--spec-file"), args.check
    text = args.spec if args.spec is not None else os.environ.get("SIMNODE_SPEC")
    if text is None and os.environ.get("SIMNODE_SPEC_FILE"):
        with open(os.environ["SIMNODE_SPEC_FILE"], encoding="utf-8") as handle:
            return parse_config_text(handle.read(), "SIMNODE_SPEC_FILE"), args.check
    if text is None:
        raise ConfigError(
            "SIMNODE_SPEC", "missing: give the configuration in env SIMNODE_SPEC, SIMNODE_SPEC_FILE or --spec"
        )
    return parse_config_text(text, "--spec" if args.spec is not None else "SIMNODE_SPEC"), args.check


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config, check_only = _load(sys.argv[1:] if argv is None else argv)
    except ConfigError as exc:
        print(f"simnode: invalid configuration: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"simnode: cannot read the configuration: {exc}", file=sys.stderr)
        return 2
    logging.getLogger().setLevel(config.log_level.upper())
    if check_only:
        print(f"simnode: configuration OK ({len(config.nodes)} nodes)")
        return 0
    from simnode.control import control_handler
    from simnode.runtime import Runtime

    runtime = Runtime(config, control_handler)
    try:
        runtime.start()
    except OSError as exc:
        print(f"simnode: cannot start: {exc}", file=sys.stderr)
        return 3
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
    log.info("simnode: stopping gracefully (signal)")
    runtime.stop_all()
    log.info("simnode: stopped")
    logging.shutdown()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # do not wait for MCMP workers blocked in a socket call
