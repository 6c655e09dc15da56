"""Checks fastmask's built distributions; used by .ci/dist.sh.

    python .ci/dist_check.py contents ROOT SDIST WHEEL
        the sdist holds every tracked file the build needs and no build output; the wheel holds
        the package (every module, the compiled extension, py.typed, every stub) and nothing
        else; both carry the version written in fastmask/__init__.py
    python .ci/dist_check.py imports VERSION
        run inside the fresh environment: every public module imports, or, when an optional
        dependency is missing, fails with an ImportError that names the extra to install
"""

from __future__ import annotations

import fnmatch
import importlib
import pkgutil
import re
import subprocess
import sys
import tarfile
import traceback
import zipfile
from pathlib import Path
from typing import Iterable, List

FAILURES: List[str] = []


def fail(msg: str) -> None:
    FAILURES.append(msg)
    print(f"FAIL: {msg}")


def version_of(root: Path) -> str:
    text = (root / "fastmask" / "__init__.py").read_text(encoding="utf-8")
    m = re.search(r'^__version__\s*=\s*"([^"]+)"', text, re.M)
    if not m:
        raise SystemExit("no __version__ in fastmask/__init__.py")
    return m.group(1)


def tracked(root: Path) -> List[str]:
    """Files the repository tracks (or, outside git, the files on disk)."""
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files"], check=True,
                             capture_output=True, text=True).stdout
        return [line for line in out.splitlines() if (root / line).is_file()]
    except (OSError, subprocess.CalledProcessError):
        return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()]


def matches(name: str, patterns: Iterable[str]) -> bool:
    parts = name.split("/")
    for pat in patterns:
        if fnmatch.fnmatch(name, pat) or any(fnmatch.fnmatch(p, pat) for p in parts):
            return True
    return False


# build output and local clutter, wherever it sits (matched against the path and each part)
NEVER = ["*.so", "*.pyd", "*.o", "*.a", "*.obj", "*.dll", "*.dylib", "__pycache__", "*.pyc",
         "build", "dist", ".venv*", ".pytest_cache", ".hypothesis", ".benchmarks",
         "fastmask/_core.c", "fastmask/_core.html", "*.whl", "*.tar.gz", ".git"]


def check_sdist(root: Path, sdist: Path, version: str) -> None:
    with tarfile.open(sdist) as tf:
        names = [m.name for m in tf.getmembers() if m.isfile()]
        prefix = names[0].split("/")[0]
        rel = sorted(n[len(prefix) + 1:] for n in names)
        pkg_info = tf.extractfile(f"{prefix}/PKG-INFO").read().decode()  # type: ignore[union-attr]
    print(f"sdist: {sdist.name}, {len(rel)} files, {sdist.stat().st_size / 1024:.0f} KiB")
    if f"\nVersion: {version}\n" not in pkg_info:
        fail(f"sdist PKG-INFO does not say Version: {version}")
    have = set(rel)
    needed = ["pyproject.toml", "setup.py", "README.md", "LICENSE", "MANIFEST.in",
              "fastmask/_core.pyx", "fastmask/_core.pxd", "fastmask/_core.pyi", "fastmask/py.typed"]
    for name in tracked(root):
        # the package's files and the C sources (not, e.g., fuzz corpora under csrc/tests)
        if name.startswith("fastmask/") or (name.startswith("csrc/")
                                            and name.endswith((".c", ".h"))):
            needed.append(name)
    for name in sorted(set(needed)):
        if name not in have:
            fail(f"sdist lacks {name}")
    if not any(n.startswith("csrc/") and n.endswith(".c") for n in rel):
        fail("sdist holds no csrc/*.c")
    for name in rel:
        if name.startswith("fastmask.egg-info/"):
            continue  # setuptools' own record of the sdist
        if matches(name, NEVER):
            fail(f"sdist holds build output or clutter: {name}")


def check_wheel(root: Path, wheel: Path, version: str) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = sorted(zf.namelist())
        meta = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = zf.read(meta[0]).decode() if meta else ""
    print(f"wheel: {wheel.name}, {len(names)} files, {wheel.stat().st_size / 1024:.0f} KiB")
    if f"\nVersion: {version}\n" not in metadata:
        fail(f"wheel METADATA does not say Version: {version}")
    if not re.search(r"^License-Expression: Apache-2.0$", metadata, re.M):
        fail("wheel METADATA has no License-Expression: Apache-2.0")
    if not any(re.search(r"\.dist-info/licenses/LICENSE$", n) for n in names):
        fail("wheel does not carry LICENSE")
    have = set(names)
    src = tracked(root)
    needed = ["fastmask/py.typed", "fastmask/_core.pyi", "fastmask/_core.pxd"]
    needed += [n for n in src if n.startswith("fastmask/") and n.endswith((".py", ".pyi"))]
    for name in sorted(set(needed)):
        if name not in have:
            fail(f"wheel lacks {name}")
    if not [n for n in names if re.fullmatch(r"fastmask/_core\.[^/]*(\.so|\.pyd)", n)]:
        fail("wheel holds no compiled fastmask._core")
    allowed_ext = (".py", ".pyi", ".pxd", ".so", ".pyd", "py.typed")
    for name in names:
        if ".dist-info/" in name:
            continue
        if not name.startswith("fastmask/"):
            fail(f"wheel holds a file outside the package: {name}")
        elif not name.endswith(allowed_ext):
            fail(f"wheel holds a source or build file: {name}")
        elif matches(name, ["__pycache__", "*.pyc", "tests", "test_fastmask*", "fuzz_*"]):
            fail(f"wheel holds a test program or leftover: {name}")


# Public modules whose optional dependency may be absent: the hint names the extra.
def check_imports(version: str) -> None:
    import fastmask

    if fastmask.__version__ != version:
        fail(f"installed fastmask.__version__ is {fastmask.__version__}, expected {version}")
    where = Path(fastmask.__file__).resolve().parent
    if "site-packages" not in str(where):
        fail(f"fastmask imported from {where}, not from the installed wheel")
    modules = ["fastmask"] + [
        m.name for m in pkgutil.walk_packages(fastmask.__path__, "fastmask.")
        if not any(part.startswith("_") for part in m.name.split("."))]
    hinted = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            msg = str(exc)
            if "pip install" in msg and re.search(r"fastmask\[[a-z]+\]", msg):
                hinted.append(name)
                print(f"  {name}: install hint: {msg.splitlines()[0]}")
            else:
                fail(f"import {name}: ImportError without an install hint naming the extra: "
                     f"{msg!r}")
        except Exception:  # noqa: BLE001 - any other failure is the defect this reports
            fail(f"import {name} raised:\n{traceback.format_exc()}")
        else:
            print(f"  {name}: imports")
    print(f"{len(modules)} public modules, {len(hinted)} give an install hint")
    if not hinted:
        fail("no module gave an install hint although torch/pyarrow are absent here")


def main(argv: List[str]) -> int:
    if argv[:1] == ["contents"] and len(argv) == 4:
        root = Path(argv[1]).resolve()
        version = version_of(root)
        check_sdist(root, Path(argv[2]), version)
        check_wheel(root, Path(argv[3]), version)
    elif argv[:1] == ["imports"] and len(argv) == 2:
        check_imports(argv[1])
    else:
        print(__doc__)
        return 2
    if FAILURES:
        print(f"{len(FAILURES)} problem(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
