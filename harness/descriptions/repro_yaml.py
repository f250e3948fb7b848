"""Reproductions written as YAML: `yaml.safe_load`, then `reproduction_from_dict`, nothing lost on the way.

Every error names the file and the field path (`repro.yaml: timeline[2].inject.kind: got 'kil'; accepted
values: kill, stop, ...`), or the line for YAML syntax. Nothing is dropped in silence: an unknown key is
refused (naming the accepted ones), a key given twice is refused (plain PyYAML keeps the last), and a bare
yes/no where text is expected is refused with a hint to quote it. `version: 2` may head the file.

    key: MODCLUSTER-123
    summary: a killed node's sessions get 503 instead of failing over
    topology: {nodes: 2, node: {include_sticky_force: false}}
    load: {users: 6}
    timeline:
      - inject: {kind: kill, node: node1}
      - wait_until: {condition: node_down, node: node1, timeout_s: 15}
      - hold: 5
      - heal: kill:node1
    checks: [sticky, failover_within:10]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness.descriptions.base import SpecError
from harness.descriptions.reproduction import FORMAT_VERSION, Reproduction, reproduction_from_dict

SUFFIXES = (".yaml", ".yml")


class ReproFileError(SpecError):
    """A reproduction file that cannot be used; `source` is the file (as given), `field` the path in it."""

    def __init__(self, source: str, field: str, message: str) -> None:
        super().__init__(field, message)
        self.source = source
        self.args = (f"{source}: {field}: {message}" if field else f"{source}: {message}",)

    def with_prefix(self, prefix: str) -> ReproFileError:
        return ReproFileError(self.source, f"{prefix}.{self.field}" if self.field else prefix, self.message)


# safe_load's loader, refusing a mapping key given twice (the first value would be lost)
_StrictLoader: Any = type("_StrictLoader", (yaml.SafeLoader,), {})


def _construct_mapping(loader: Any, node: Any, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, Any] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} given twice (line {seen[key]} and line {line})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line + 1
    loader.flatten_mapping(node)
    return dict(loader.construct_pairs(node, deep=deep))


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, source: str) -> Any:
    """The YAML document as plain data; a syntax error or a repeated key names the file and line."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: safe_load semantics
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise ReproFileError(source, "", f"{where}{exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise ReproFileError(source, "", f"not YAML: {exc}") from None


def reproduction_from_yaml(text: str, source: str = "<text>") -> Reproduction:
    data = parse_yaml(text, source)
    if data is None:
        raise ReproFileError(source, "", "empty: expected a mapping with at least key and checks")
    if not isinstance(data, dict):
        raise ReproFileError(source, "", f"got a {type(data).__name__} at the top; expected a mapping (key: ...)")
    try:
        return reproduction_from_dict(data)
    except SpecError as exc:
        raise ReproFileError(source, exc.field, exc.message) from None


def load_reproduction_yaml(path: Path | str) -> Reproduction:
    """A reproduction from a .yaml / .yml file; ReproFileError naming the file otherwise."""
    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise ReproFileError(str(path), "", f"expected a {' or '.join(SUFFIXES)} file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReproFileError(str(path), "", f"cannot be read ({exc})") from None
    return reproduction_from_yaml(text, str(path))


def reproduction_to_yaml(repro: Reproduction) -> str:
    """The YAML form of `repro` (reads back equal with reproduction_from_yaml)."""
    text: str = yaml.safe_dump({"version": FORMAT_VERSION, **repro.to_dict()}, sort_keys=False, allow_unicode=True)
    return text
