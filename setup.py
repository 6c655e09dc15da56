"""Declares the compiled parts; all metadata (the version included) lives in pyproject.toml.

Two compiled pieces, each with the flags it needs:
  fastmask_core   a static library of the C kernels, every csrc/*.c, built with -O3 (build_clib)
  fastmask._core  the Cython bindings (fastmask/_core.pyx -> a ~2 MB generated C file), built
                  with -O3 but without debug info, linked against fastmask_core

Python's own CFLAGS carry `-g -O3`; the flags here come after them and win. Debug info is what
made the bindings slow to compile (-g costs half again the compile time; the machine code is
the same without it). Lower levels for the bindings were measured and rejected: their loops
read the Python lists, and fastmask.pad on 256 lists of up to 512 ints took 20 % longer at
-O2 and 40 % longer at -O1.

Environment switches (both apply to the kernels and the bindings):
  FASTMASK_DEBUG=1     -O0 -g and Cython bounds/wraparound checks turned back on
  FASTMASK_SANITIZE=1  compile (and link) with -fsanitize=address,undefined
"""

import glob
import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext as _build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
LIBRARY = "fastmask_core"


def _switch(name, environ):
    return environ.get(name, "0") not in ("", "0")


def _sources(pattern):
    """Repository-relative paths matching `pattern`, sorted (setuptools wants relative paths)."""
    return sorted(os.path.relpath(p, HERE).replace(os.sep, "/")
                  for p in glob.glob(os.path.join(HERE, pattern)))


def build_flags(environ=os.environ, platform=sys.platform):
    """Compile flags of the kernels and of the bindings, link flags of the extension.

    They come after Python's own CFLAGS, so the -O and -g choices here are the ones that count.
    """
    debug = _switch("FASTMASK_DEBUG", environ)
    sanitize = _switch("FASTMASK_SANITIZE", environ)
    if platform == "win32":
        return {"kernels": [], "bindings": [], "link": [], "debug": debug}
    # identical float results on every compiler; the kernels pun integer buffers
    common = ["-ffp-contract=off", "-fno-strict-aliasing"]
    if debug:
        kernels = common + ["-O0", "-g"]
        bindings = common + ["-O0", "-g"]
    else:
        # functions start on a cache line: the speed of the hot loops (the list reader above
        # all) then does not move with the size of unrelated code before them
        kernels = common + ["-O3", "-g0", "-falign-functions=64", "-falign-loops=64"]
        bindings = common + ["-O3", "-g0", "-falign-functions=64", "-falign-loops=64"]
    link = []
    if sanitize:
        san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
        kernels += san
        bindings += san
        link += ["-fsanitize=address,undefined"]
    return {"kernels": kernels, "bindings": bindings, "link": link, "debug": debug}


FLAGS = build_flags()
KERNEL_SOURCES = _sources("csrc/*.c")
HEADERS = _sources("csrc/*.h") + _sources("fastmask/*.h") + _sources("fastmask/*.pxi")

DIRECTIVES = {
    "language_level": "3",
    "boundscheck": FLAGS["debug"],
    "wraparound": FLAGS["debug"],
    "cdivision": True,
    "initializedcheck": FLAGS["debug"],
    "embedsignature": True,
}


class build_ext(_build_ext):
    """Builds the kernel library first, then cythonizes and compiles the bindings.

    Cython runs here rather than when setup.py is read, so making an sdist or reading the
    metadata does not generate (or ship) the large C file.
    """

    def run(self):
        # setuptools rebuilds objects only when a source is newer; a stamp holding the flags,
        # rewritten when they change (or with --force), makes a switch of FASTMASK_DEBUG or
        # FASTMASK_SANITIZE rebuild the kernels and the bindings
        clib = self.distribution.get_command_obj("build_clib")
        clib.ensure_finalized()
        stamp = os.path.join(clib.build_temp, "fastmask-flags.txt")
        text = repr(sorted(FLAGS.items())) + "\n"
        old = None
        if os.path.exists(stamp):
            with open(stamp, encoding="utf-8") as f:
                old = f.read()
        changed = self.force or old != text
        if changed:
            os.makedirs(clib.build_temp, exist_ok=True)
            with open(stamp, "w", encoding="utf-8") as f:
                f.write(text)
        for _, info in clib.libraries:
            info["obj_deps"] = {"": HEADERS + [stamp]}
        for ext in self.extensions:
            ext.depends = list(ext.depends) + [stamp]
        self.run_command("build_clib")
        from Cython.Build import cythonize

        # cythonize hands back new Extension objects; keep setuptools' own, with C sources
        for ext, converted in zip(self.extensions, cythonize(
                self.extensions, compiler_directives=DIRECTIVES, quiet=True, force=changed)):
            ext.sources = converted.sources
        super().run()


LIBRARIES = [
    (LIBRARY, {
        "sources": KERNEL_SOURCES,
        "include_dirs": ["csrc"],
        "cflags": FLAGS["kernels"],
    }),
]

EXTENSIONS = [
    Extension(
        "fastmask._core",
        sources=["fastmask/_core.pyx"],
        include_dirs=["csrc", "fastmask"],
        # a change to the kernels relinks the extension
        depends=HEADERS + KERNEL_SOURCES,
        extra_compile_args=FLAGS["bindings"],
        extra_link_args=FLAGS["link"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
]

if __name__ == "__main__":
    setup(libraries=LIBRARIES, ext_modules=EXTENSIONS, cmdclass={"build_ext": build_ext})
