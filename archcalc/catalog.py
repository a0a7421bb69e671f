"""Built-in specs: where they live, their names (`-` and `_` interchangeable), and presets.

A name can also be a path to a YAML file. A spec's `presets` are names too
(`efficientnet_b3` is the preset b3 of `efficientnet.yaml`).
"""
from __future__ import annotations

import os
from functools import lru_cache

from .errors import UsageError, did_you_mean, excerpt, printable
from .record import record
from .spec import Spec, load
from .yamlio import stem

TYPE_CHECKING = False   # pathlib is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from pathlib import Path


def specs_dir() -> Path:
    from pathlib import Path

    return Path(specs_root())


@lru_cache(maxsize=1)
def specs_root() -> str:
    """The built-in specs' directory (symlinks resolved): inside the package, or beside it in a checkout."""
    here = os.path.dirname(os.path.realpath(__file__))
    for candidate in (os.path.join(here, "specs"), os.path.join(os.path.dirname(here), "specs")):
        if os.path.isdir(candidate):
            return os.path.realpath(candidate)
    raise UsageError("the built-in specs are missing from this installation")  # pragma: no cover


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_")


@record
class Entry:
    name: str
    file: str | os.PathLike[str]
    preset: str | None = None


@lru_cache(maxsize=1)
def entries() -> dict[str, Entry]:
    """name → entry for every built-in spec and preset, from file names and a cheap preset scan."""
    out: dict[str, Entry] = {}
    root = specs_root()
    for path in sorted(os.path.join(root, f) for f in os.listdir(root) if f.endswith(".yaml")):
        out[_key(stem(path))] = Entry(_key(stem(path)), path)
        for preset in _declared_presets(path):
            out.setdefault(_key(preset), Entry(_key(preset), path, preset))
    return out


def _declared_presets(path: str) -> list[str]:
    """Preset names without parsing the whole spec: the keys indented under a top-level `presets:`."""
    names, inside, indent = [], False, None
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if "presets:" not in text:
        return names
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            inside = line.startswith("presets:")
            indent = None
            continue
        if inside:
            width = len(line) - len(line.lstrip())
            indent = indent or width
            if width == indent and ":" in line:
                names.append(line.strip().split(":", 1)[0])
    return names


def _builtin_file(key: str) -> Entry | None:
    """The spec file named `key` itself, without listing the directory or scanning presets: a file's own
    name always wins over a preset of the same name in `entries`."""
    if not key or key.startswith(".") or os.sep in key or (os.altsep and os.altsep in key) or "\x00" in key:
        return None
    path = os.path.join(specs_root(), f"{key}.yaml")
    return Entry(key, path) if os.path.isfile(path) else None


def is_path(name: str) -> bool:
    """The rule for a SPEC argument: a path when it contains `/` or ends in .yaml/.yml, otherwise a
    built-in name. A file in the working directory never shadows a built-in (write ./vgg16 for it)."""
    return "/" in name or name.lower().endswith((".yaml", ".yml"))


def resolve(name: str) -> Entry:
    shown = printable(name, one_line=True)
    if not name.strip():
        raise UsageError("empty spec name; give a built-in name (see `archcalc list`) or a path to a YAML file")
    if is_path(name):
        if not os.path.exists(name):
            raise UsageError(f"no such file: {excerpt(name, 200)}")
        return Entry(stem(name), name)
    found = _builtin_file(_key(name)) or entries().get(_key(name))
    if found is None:
        local = ""
        try:
            if os.path.exists(name):
                local = f"; a file `{excerpt(name)}` is here: to use it, write ./{excerpt(name)}"
        except (OSError, ValueError):
            pass
        raise UsageError(f"unknown spec `{excerpt(shown)}`{did_you_mean(_key(name), set(entries()))}{local}; "
                         f"`archcalc list` shows the built-in ones, or give a path to a YAML file "
                         f"(a name with `/` or ending in .yaml)")
    return found


@lru_cache(maxsize=64)
def _load(path: str, display: str, builtin: bool) -> Spec:
    return load(path, display, cached=builtin)


def load_entry(entry: Entry) -> Spec:
    file = os.fspath(entry.file)
    display = file   # a user's file is shown as given; a built-in one from the project root
    real = os.path.realpath(file)
    builtin = os.path.dirname(real) == specs_root()
    if builtin:
        display = os.path.relpath(real, os.path.dirname(specs_root()))
    return _load(file, display, builtin)


def builtin_names() -> list[str]:
    return sorted(entries())
