"""Fault vocabulary of the sim node: start-time words (NodeSpec.faults) and run-time JSON (POST /fault).

Toggles (`Faults`, changeable at any time):
  freeze            accept HTTP connections and read requests, never answer
  delay_ms=N        answer every HTTP request N ms late
  error=5xx         answer context requests with that status (OPTIONS * still answers 200)
  load=N            send Load=N (-1..100) in STATUS instead of the node's load
  no_status         stop sending STATUS
  flap=UP[:DOWN]    HTTP listener up for UP s, then closed for DOWN s (default UP; connects refused, idle
                    connections closed, requests in progress answered), repeat
  no_sticky_force   leave StickySessionForce out of CONFIG (takes effect at the next CONFIG)
One-shot events (`FaultPlan`, start words only; at run time use the control endpoint's actions):
  crash_after=S     after S s the node dies abruptly: listener closed, connections reset, no MCMP goodbye
  exit_after=S      after S s the whole process exits at once (exit code 137)
  reregister_port=P / reregister_host=H [reregister_after=S]
                    S s after start (default: the node's status interval) register again with another
                    Port / Host under the same JVMRoute

Pure: no sockets, no clocks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Mapping

ErrorFactory = Callable[[str, str], Exception]


@dataclass(frozen=True)
class Faults:
    freeze: bool = False
    delay_ms: int = 0
    error: int | None = None
    load: int | None = None
    no_status: bool = False
    flap: tuple[float, float] | None = None
    no_sticky_force: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["flap"] = list(self.flap) if self.flap else None
        return data

    @property
    def active(self) -> list[str]:
        """Names of the toggles that differ from a healthy node."""
        healthy = Faults()
        return [name for name in self.to_dict() if getattr(self, name) != getattr(healthy, name)]


@dataclass(frozen=True)
class FaultPlan:
    faults: Faults = field(default_factory=Faults)
    crash_after_s: float | None = None
    exit_after_s: float | None = None
    reregister_port: int | None = None
    reregister_host: str | None = None
    reregister_after_s: float | None = None


FAULT_WORDS = ("freeze", "delay_ms=N", "error=5xx", "load=N", "no_status", "flap=UP[:DOWN]", "no_sticky_force",
               "crash_after=S", "exit_after=S", "reregister_port=P", "reregister_host=H", "reregister_after=S")


def _int_value(field: str, text: str, lo: int, hi: int, error: ErrorFactory) -> int:
    try:
        value = int(text)
    except ValueError:
        raise error(field, f"got {text!r}; expected an integer in {lo}..{hi}") from None
    if not lo <= value <= hi:
        raise error(field, f"got {value}; expected an integer in {lo}..{hi}")
    return value


def _seconds(field: str, text: str, error: ErrorFactory, lo: float = 0.0) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value == value or value < lo or value == float("inf"):
        raise error(field, f"got {text!r}; expected a number of seconds >= {lo}")
    return value


def _flap(field: str, text: str, error: ErrorFactory) -> tuple[float, float]:
    up_text, _, down_text = text.partition(":")
    up = _seconds(field, up_text, error, 0.01)
    return up, (_seconds(field, down_text, error, 0.01) if down_text else up)


def parse_fault_words(field: str, words: tuple[object, ...], error: ErrorFactory) -> FaultPlan:
    """Start-time fault words -> FaultPlan; `error(field, message)` builds the exception to raise."""
    toggles: dict[str, Any] = {}
    plan: dict[str, Any] = {}
    for i, word in enumerate(words):
        where = f"{field}[{i}]"
        if not isinstance(word, str):
            raise error(where, f"got {word!r}; expected a fault word ({', '.join(FAULT_WORDS)})")
        key, sep, value = word.partition("=")
        if key in ("freeze", "no_status", "no_sticky_force") and not sep:
            toggles[key] = True
        elif key == "delay_ms" and sep:
            toggles["delay_ms"] = _int_value(where, value, 0, 3_600_000, error)
        elif key == "error" and sep:
            toggles["error"] = _int_value(where, value, 500, 599, error)
        elif key == "load" and sep:
            toggles["load"] = _int_value(where, value, -1, 100, error)
        elif key == "flap" and sep:
            toggles["flap"] = _flap(where, value, error)
        elif key in ("crash_after", "exit_after", "reregister_after") and sep:
            plan[f"{key}_s"] = _seconds(where, value, error)
        elif key == "reregister_port" and sep:
            plan["reregister_port"] = _int_value(where, value, 1, 65535, error)
        elif key == "reregister_host" and sep and value:
            plan["reregister_host"] = value
        else:
            raise error(where, f"unknown fault word {word!r}; accepted: {', '.join(FAULT_WORDS)}")
    if plan.get("reregister_after_s") is not None and not (plan.get("reregister_port") or plan.get("reregister_host")):
        raise error(field, "reregister_after needs reregister_port=P or reregister_host=H")
    return FaultPlan(Faults(**toggles), **plan)


_RUNTIME_KEYS = ("freeze", "delay_ms", "error", "load", "no_status", "flap", "no_sticky_force")


def _json_int(key: str, value: object, lo: int, hi: int, nullable: bool, error: ErrorFactory) -> int | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise error(key, f"got {value!r}; expected an integer in {lo}..{hi}{' or null' if nullable else ''}")
    return value


def _json_flap(value: object, error: ErrorFactory) -> tuple[float, float] | None:
    if value is None:
        return None
    ok = (isinstance(value, (list, tuple)) and len(value) == 2
          and all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0.01 for v in value))
    if not ok:
        raise error("flap", f"got {value!r}; expected [up_s, down_s] (numbers >= 0.01) or null")
    assert isinstance(value, (list, tuple))
    return float(value[0]), float(value[1])


def update_faults(current: Faults, changes: Mapping[str, object], error: ErrorFactory) -> Faults:
    """Apply a POST /fault body ({"freeze": true, "load": 0, ...}; "clear": true starts from healthy)."""
    base = Faults() if changes.get("clear") is True else current
    values: dict[str, Any] = {}
    for key, value in changes.items():
        if key in ("node", "clear"):
            continue
        if key in ("freeze", "no_status", "no_sticky_force"):
            if not isinstance(value, bool):
                raise error(key, f"got {value!r}; expected true or false")
            values[key] = value
        elif key == "delay_ms":
            values[key] = _json_int(key, value, 0, 3_600_000, False, error)
        elif key == "error":
            values[key] = _json_int(key, value, 500, 599, True, error)
        elif key == "load":
            values[key] = _json_int(key, value, -1, 100, True, error)
        elif key == "flap":
            values[key] = _json_flap(value, error)
        else:
            raise error(key, f"unknown fault; accepted: node, clear, {', '.join(_RUNTIME_KEYS)}")
    return replace(base, **values)
