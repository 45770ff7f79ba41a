"""Where a piece of Python code comes from, for the code fingerprint of the cache.

Three origins, decided by the file that holds the code (not by the module's name: a project
module called ``code.py`` must not pass for the standard library's):

- ``installed``: under a ``site-packages`` / ``dist-packages`` folder. Identified by its
  distribution's name and version (``polars==2.1.0``), so upgrading a library re-runs the
  tasks that use it; its code is not read.
- ``stdlib``: under the interpreter's standard library folders, or built into it.
  Identified by the Python version (which is part of every fingerprint anyway).
- ``project``: anything else (the user's modules, editable installs of their own packages,
  code made by ``exec``). Followed and hashed in full by ``glacier.runner.code_fingerprint``.

Glacier itself always counts as a library (by its version), even from a source checkout.
"""

from __future__ import annotations

import sys
import sysconfig
import threading
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Literal

Origin = Literal["installed", "stdlib", "project"]

_SITE_DIRS = ("site-packages", "dist-packages")
_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _stdlib_roots() -> tuple[str, ...]:
    bases = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix, "installed_base": sys.base_prefix}
    roots = {sysconfig.get_path(name, vars=bases) for name in ("stdlib", "platstdlib")}
    return tuple(sorted(str(Path(root).resolve()) + "/" for root in roots if root))


@lru_cache(maxsize=4096)
def origin_of_file(filename: str) -> Origin:
    """The origin of the code in ``filename`` (a code object's ``co_filename``)."""
    if not filename or filename.startswith("<"):
        return "project"  # exec'd or interactive code: only its bytecode can tell it apart
    parts = Path(filename).parts
    if any(part in _SITE_DIRS for part in parts):
        return "installed"
    resolved = str(Path(filename).resolve())
    if any(resolved.startswith(root) for root in _stdlib_roots()):
        return "stdlib"
    return "project"


def module_file(module: ModuleType) -> str | None:
    """The file a module was loaded from (a package's first folder for namespace packages)."""
    file = getattr(module, "__file__", None)
    if file:
        return str(file)
    paths = list(getattr(module, "__path__", None) or [])
    return str(paths[0]) + "/__init__.py" if paths else None


_MODULE_ORIGINS: dict[int, tuple[ModuleType, Origin]] = {}


def origin_of_module(module: ModuleType) -> Origin:
    entry = _MODULE_ORIGINS.get(id(module))
    if entry is not None and entry[0] is module:
        return entry[1]
    origin = _origin_of_module(module)
    if len(_MODULE_ORIGINS) > 4096:
        _MODULE_ORIGINS.clear()
    _MODULE_ORIGINS[id(module)] = (module, origin)  # keeps the module alive: its id stays unique
    return origin


def _origin_of_module(module: ModuleType) -> Origin:
    name = module.__name__.split(".")[0]
    if is_glacier(name):
        return "installed"
    file = module_file(module)
    if file is None:  # built into the interpreter (sys, _io, ...) or made at runtime
        return "stdlib" if name in sys.builtin_module_names or name in sys.stdlib_module_names else "project"
    return origin_of_file(file)


def origin_of_module_name(module_name: str | None) -> Origin:
    """The origin of the module an object names in ``__module__`` (``project`` when unknown:
    it is then hashed in full, which can only cause a re-run, never a stale hit)."""
    if not module_name:
        return "project"
    if is_glacier(module_name):
        return "installed"
    module = sys.modules.get(module_name)
    if module is None:
        return "stdlib" if module_name in sys.builtin_module_names else "project"
    return origin_of_module(module)


def library_identity(module_name: str) -> str:
    """``name==version`` of the distribution that installs top-level module ``module_name``
    (for modules with no distribution found: the module file's size and mtime)."""
    top = module_name.split(".")[0]
    with _LOCK:
        return _library_identity(top)


@lru_cache(maxsize=1024)
def _library_identity(top: str) -> str:
    try:
        dist = metadata.distribution(top)
        if _provides(dist, top):
            # One parse of METADATA (``dist.version`` would parse it again: ~1 ms for Polars')
            meta = dist.metadata
            return f"{meta['Name']}=={meta['Version']}"
    except metadata.PackageNotFoundError:
        pass
    module = sys.modules.get(top)
    file = module_file(module) if module is not None else None
    if file is not None:
        site = _site_dir(Path(file))
        if site is not None:
            found = _site_index(str(site)).get(top)
            if found:
                return found
        try:
            st = Path(file).stat()
            return f"{top}@file:{st.st_size}:{st.st_mtime_ns}"
        except OSError:
            pass
    return f"{top}@unknown"


def _provides(dist: metadata.Distribution, top: str) -> bool:
    listed = dist.read_text("top_level.txt")
    if listed is not None:
        return top in listed.split()
    record = dist.read_text("RECORD") or ""
    # "top/__init__.py,..." for a package; "top.py,..." / "top.cpython-311-x86_64.so,..." for a module
    return any(
        line.startswith((f"{top}/", f"{top}.")) and ".dist-info/" not in line for line in record.splitlines()
    )


def _site_dir(path: Path) -> Path | None:
    for parent in path.parents:
        if parent.name in _SITE_DIRS:
            return parent
    return None


@lru_cache(maxsize=16)
def _site_index(site: str) -> dict[str, str]:
    """Top-level module -> ``name==version`` for every distribution in one site folder
    (read once, and only when a module's name is not its distribution's)."""
    index: dict[str, str] = {}
    for info in sorted(Path(site).glob("*.dist-info")):
        dist = metadata.Distribution.at(info)
        identity = f"{dist.metadata['Name']}=={dist.version}"
        listed = dist.read_text("top_level.txt")
        if listed is not None:
            tops = set(listed.split())
        else:
            tops = {
                line.split(",", 1)[0].split("/", 1)[0].split(".", 1)[0]
                for line in (dist.read_text("RECORD") or "").splitlines()
            }
        for name in tops:
            index.setdefault(name, identity)
    return index


def identity_of_module_name(module: str | None) -> str:
    """What a module's code counts as: ``python`` for the standard library, else its
    distribution (``library_identity``)."""
    origin = origin_of_module_name(module)
    return "python" if origin == "stdlib" else library_identity(module or "")


_LIBRARY_NAMES: dict[int, tuple[object, str | None]] = {}


def library_object_name(obj: object) -> str | None:
    """``module.name`` when ``obj`` is a callable object a library defines at module level
    (``polars.col``, ``numpy.sqrt``): it is then library code, known by name and version."""
    entry = _LIBRARY_NAMES.get(id(obj))
    if entry is not None and entry[0] is obj:
        return entry[1]
    found: str | None = None
    module_name = type(obj).__module__ or ""
    for candidate in (module_name, module_name.split(".")[0]):
        module = sys.modules.get(candidate)
        if module is None or origin_of_module(module) == "project":
            continue
        name = next((key for key, value in vars(module).items() if value is obj), None)
        if name is not None:
            found = f"{candidate}.{name}"
            break
    if len(_LIBRARY_NAMES) > 4096:
        _LIBRARY_NAMES.clear()
    _LIBRARY_NAMES[id(obj)] = (obj, found)
    return found


def is_glacier(module: str | None) -> bool:
    """Glacier counts as a library (by version) even when it runs from a checkout."""
    return module is not None and (module == "glacier" or module.startswith("glacier."))
