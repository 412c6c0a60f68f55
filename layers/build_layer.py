"""Builds a Lambda layer's ``python/`` folder: locked wheels for the Lambda target, precompiled.

SAM runs it through layers/core/Makefile and layers/media/Makefile (``BuildMethod: makefile``);
`make build` finds the Python 3.12 it needs and passes it as CVAT_PYTHON312. Standard library only.

    python layers/build_layer.py core DEST     # the cvat_serverless package + requirements.lock
    python layers/build_layer.py media DEST    # layers/media/requirements.lock
    python layers/build_layer.py find-python   # prints the Python 3.12 interpreter, or says how to get one

Lambda layers are read-only, so a module without its .pyc is compiled from source on every cold
start. Every .py here is compiled by the runtime's own version (CPython 3.12) with unchecked-hash
invalidation: the .pyc carries no source mtime and is never rechecked, and its recorded file name
is the one the runtime sees (/opt/python/...). Wheels come from the lock files only, pinned by
hash, for linux aarch64 with glibc <= 2.34 (the python3.12 runtime is Amazon Linux 2023).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

LAYERS_DIR = Path(__file__).resolve().parent
PACKAGE_SOURCE = LAYERS_DIR / "core" / "cvat_serverless"
LOCK_FILES = {"core": LAYERS_DIR / "core" / "requirements.lock", "media": LAYERS_DIR / "media" / "requirements.lock"}

# The Lambda python3.12 runtime on arm64: CPython 3.12, Amazon Linux 2023 (glibc 2.34).
TARGET_PYTHON = "3.12"
TARGET_GLIBC = (2, 34)
TARGET_PLATFORMS = (*(f"manylinux_2_{minor}_aarch64" for minor in range(TARGET_GLIBC[1], 16, -1)),
                    "manylinux2014_aarch64")
# Where a layer's python/ folder lies at run time: the file names recorded in the .pyc.
RUNTIME_PREFIX = "/opt/python"
# Subpackages that are tools, not product code: never shipped, even if one reappears in the source.
NOT_SHIPPED = ("local", "admin", "tests")
# Every file of the built tree gets this mtime (1980-01-01, the zip format's first date), so two
# builds of the same lock files and sources zip to the same bytes.
FIXED_MTIME = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))

PYTHON_HINT = (
    "Python 3.12 not found: the layers are precompiled for the Lambda python3.12 runtime. Install it "
    "(`pyenv install 3.12`, `apt-get install python3.12`, `brew install python@3.12` or `uv python install 3.12`) "
    "or point CVAT_PYTHON312 at its interpreter."
)


class BuildError(RuntimeError):
    """The layer cannot be built (no Python 3.12, a pip failure, a file that does not compile)."""


# ---------------------------------------------------------------- Python 3.12

def _is_python312(command: str) -> bool:
    try:
        result = subprocess.run([command, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return False
    return result.returncode == 0 and result.stdout.strip() == TARGET_PYTHON


def _pyenv_candidates() -> list[str]:
    pyenv = shutil.which("pyenv")
    if not pyenv:
        return []
    candidates = []
    prefix = subprocess.run([pyenv, "prefix", TARGET_PYTHON], capture_output=True, text=True, check=False)
    if prefix.returncode == 0 and prefix.stdout.strip():
        candidates.append(str(Path(prefix.stdout.strip().splitlines()[0]) / "bin" / "python3.12"))
    root = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False).stdout.strip()
    bare = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True, check=False).stdout
    versions = [v.strip() for v in bare.splitlines() if v.strip().startswith(TARGET_PYTHON + ".")]
    for version in sorted(versions, key=lambda v: [int(p) if p.isdigit() else -1 for p in v.split(".")],
                          reverse=True):
        candidates.append(str(Path(root) / "versions" / version / "bin" / "python3.12"))
    return candidates


def find_python312() -> str:
    """The Python 3.12 interpreter: $CVAT_PYTHON312, else python3.12 or python3 on PATH, else pyenv's."""
    chosen = os.environ.get("CVAT_PYTHON312")
    if chosen:
        if not _is_python312(chosen):
            raise BuildError(f"CVAT_PYTHON312={chosen} is not a working Python 3.12 (unset: PATH, pyenv)")
        return chosen
    for name in ("python3.12", "python3"):
        found = shutil.which(name)
        if found and _is_python312(found):
            return found
    for candidate in _pyenv_candidates():
        if _is_python312(candidate):
            return candidate
    raise BuildError(PYTHON_HINT)


# ---------------------------------------------------------------- the steps

def _ignore_not_shipped(folder: str, names: list[str]) -> set[str]:
    ignored = {n for n in names if n == "__pycache__" or n.endswith((".egg-info", ".pyc", ".pyo"))}
    if Path(folder).resolve() == PACKAGE_SOURCE.resolve():
        ignored |= {n for n in names if n in NOT_SHIPPED}
    return ignored | {n for n in names if n in ("tests", "conftest.py")}


def ship_package(dest: Path) -> None:
    """Copies the cvat_serverless package into ``dest/cvat_serverless``: product code only (no
    local/, admin/, tests, __pycache__, *.egg-info)."""
    target = Path(dest) / "cvat_serverless"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(PACKAGE_SOURCE, target, ignore=_ignore_not_shipped)


def _pip_command(python: str) -> tuple[list[str], list[str]]:
    """pip of the 3.12 interpreter; without one, this interpreter's pip (it judges Requires-Python by
    its own version, hence --ignore-requires-python: the lock was resolved for 3.12)."""
    if subprocess.run([python, "-c", "import pip"], capture_output=True, check=False).returncode == 0:
        return [python, "-m", "pip"], []
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"], ["--ignore-requires-python"]
    raise BuildError(f"neither {python} nor {sys.executable} has pip (python -m ensurepip installs it)")


def target_options() -> list[str]:
    """pip's options that pick wheels for the Lambda runtime rather than for this machine."""
    options = ["--only-binary=:all:", "--python-version", TARGET_PYTHON, "--implementation", "cp"]
    for platform in TARGET_PLATFORMS:
        options += ["--platform", platform]
    return options


def install_locked(lock: Path, dest: Path, python: str) -> None:
    """Installs exactly the wheels of ``lock`` (pinned, hashed, no dependency resolution) into ``dest``."""
    pip, options = _pip_command(python)
    result = subprocess.run(
        [*pip, "install", *options, "--quiet", "--disable-pip-version-check", "--require-hashes", "--no-deps",
         "--no-compile", *target_options(), "--target", str(dest), "--upgrade", "-r", str(lock)],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise BuildError(f"pip install -r {lock} failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}")
    # console scripts: a shebang of the build machine's interpreter, useless in a layer
    shutil.rmtree(Path(dest) / "bin", ignore_errors=True)


def compile_tree(dest: Path, python: str, *, prefix: str = RUNTIME_PREFIX) -> None:
    """Precompiles every .py under ``dest`` with ``python`` (Python 3.12: the .pyc are cpython-312),
    unchecked-hash, the recorded file names rooted at ``prefix`` (where ``dest`` lies at run time)."""
    result = subprocess.run(
        [python, "-m", "compileall", "-q", "-j0", "--invalidation-mode", "unchecked-hash",
         "-s", str(Path(dest)), "-p", prefix, str(Path(dest))],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise BuildError(f"compileall of {dest} failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}")


def normalise_mtimes(dest: Path) -> None:
    """One fixed mtime for every file and folder, so the layer's zip depends on content only."""
    paths = sorted(Path(dest).rglob("*"), reverse=True)
    for path in [*paths, Path(dest)]:
        os.utime(path, (FIXED_MTIME, FIXED_MTIME), follow_symlinks=False)


def build(layer: str, dest: Path, python: str) -> None:
    """Builds layer ``core`` or ``media`` into ``dest`` (the layer zip's ``python/`` folder)."""
    if layer not in LOCK_FILES:
        raise BuildError(f"unknown layer {layer!r}: one of {', '.join(sorted(LOCK_FILES))}")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    install_locked(LOCK_FILES[layer], dest, python)
    if layer == "core":
        ship_package(dest)
    compile_tree(dest, python)
    normalise_mtimes(dest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("layer", choices=[*sorted(LOCK_FILES), "find-python"])
    parser.add_argument("dest", nargs="?", type=Path, help="the layer's python/ folder ($(ARTIFACTS_DIR)/python)")
    args = parser.parse_args(argv)
    try:
        python = find_python312()
        if args.layer == "find-python":
            print(python)
            return 0
        if args.dest is None:
            parser.error("DEST is required")
        build(args.layer, args.dest, python)
    except BuildError as error:
        print(f"build_layer: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
