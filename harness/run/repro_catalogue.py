"""Where reproductions come from: YAML files, Python files, and the catalogue's key lookup.

- `load_file(path)`: a `.yaml` / `.yml` file (harness.descriptions.repro_yaml), or a `.py` file whose
  module-level `REPRODUCTION` is a Reproduction (run with runpy: it is the user's file, not the project's).
- `load_folder(folder)`: every YAML file of a folder, sorted by name (scenarios/reproductions/ holds some).
- `find(selector, entries)`: a key of `entries`, or a file path.
Every entry is validated (`validate_reproduction`); an error names the file and the field, an unknown key
lists the known ones: all raised as `CatalogueError` (bad input, before anything starts).
"""

from __future__ import annotations

import runpy
from collections.abc import Sequence
from pathlib import Path

from harness.descriptions.base import SpecError
from harness.descriptions.repro_yaml import SUFFIXES, ReproFileError, load_reproduction_yaml
from harness.descriptions.reproduction import Reproduction
from harness.run.reproduction import validate_reproduction

PY_NAME = "REPRODUCTION"


class CatalogueError(ValueError):
    """A reproduction that cannot be found or read (the message names the key or the file)."""


def load_file(path: Path | str) -> Reproduction:
    path = Path(path)
    if not path.is_file():
        raise CatalogueError(f"{path}: no such file")
    try:
        if path.suffix in SUFFIXES:
            repro = load_reproduction_yaml(path)
        elif path.suffix == ".py":
            repro = _load_python(path)
        else:
            raise CatalogueError(f"{path}: expected a {', '.join(SUFFIXES)} or .py file")
        return validate_reproduction(repro)
    except ReproFileError as exc:
        raise CatalogueError(str(exc)) from None
    except SpecError as exc:
        raise CatalogueError(f"{path}: {exc}") from None


def load_folder(folder: Path | str) -> list[Reproduction]:
    """The YAML reproductions of `folder`, by file name."""
    files = sorted(p for p in Path(folder).iterdir() if p.suffix in SUFFIXES)
    return [load_file(p) for p in files]


def unique(entries: Sequence[Reproduction], where: str = "the catalogue") -> list[Reproduction]:
    """`entries` once every key is given once."""
    seen: set[str] = set()
    for repro in entries:
        if repro.key in seen:
            raise CatalogueError(f"{where}: key {repro.key!r} given twice")
        seen.add(repro.key)
    return list(entries)


def is_file_selector(selector: str) -> bool:
    return selector.endswith((*SUFFIXES, ".py")) or "/" in selector or Path(selector).is_file()


def find(selector: str, entries: Sequence[Reproduction]) -> Reproduction:
    """The entry with key `selector`, or the reproduction in the file `selector` names."""
    if is_file_selector(selector):
        return load_file(selector)
    for repro in entries:
        if repro.key == selector:
            return repro
    known = ", ".join(r.key for r in entries) or "none"
    raise CatalogueError(f"no reproduction with key {selector!r}; known keys: {known} (or give a .yaml / .py file)")


def _load_python(path: Path) -> Reproduction:
    try:
        namespace = runpy.run_path(str(path))
    except SpecError as exc:
        raise CatalogueError(f"{path}: {exc}") from None
    except Exception as exc:
        raise CatalogueError(f"{path}: running it failed: {type(exc).__name__}: {exc}") from None
    repro = namespace.get(PY_NAME)
    if not isinstance(repro, Reproduction):
        raise CatalogueError(f"{path}: defines no {PY_NAME} (a harness.descriptions.reproduction.Reproduction)")
    return repro
