"""Cold import of the core API function, as a ratio to `import boto3`.

Each import runs in a fresh interpreter (no shared module cache), alternating the cases, and the
median of several runs is compared. This is the part of a Lambda cold start that our code
controls: the module import before the first request. Target: <= 1.5 x `import boto3` for the
shipped layout.

Cases, each measured in the same run as `import boto3`:
- shipped (the target): what the core layer holds after `layers/build_layer.py`: the package
  copied by its ``ship_package`` and compiled by its ``compile_tree`` (unchecked-hash .pyc) into a
  temp dir that stands for /opt/python. sys.path is Lambda's order: the function's code dir
  (/var/task), the layer, then the dependencies (this venv's, with their .pyc). Lambda's file
  systems are read-only: the layouts are made read-only and run with PYTHONDONTWRITEBYTECODE=1,
  so nothing is cached between runs. The interpreter runs with -S (no site-packages, no .pth), so
  the editable install cannot serve cvat_serverless; the probe checks where it came from.
- the package without .pyc, the dependencies with theirs.
- no .pyc at all: the package and the core layer's dependencies (requirements.lock, taken from
  this venv) copied without __pycache__; only the standard library has .pyc. What every cold start
  pays when a read-only layer ships no .pyc. Informative, no target.
- editable: the package from the editable install (the source tree), as tests and the embedded
  runtime import it; whether it has .pyc depends on this shell (PYTHONDONTWRITEBYTECODE).
Each layout is measured twice: `bootstrap.core_api()` (what every cold start builds) and with the
/api/tasks router loaded too (routers load on the first request that needs them).
The .pyc are compiled by the interpreter that runs this script (sys.executable), because a .pyc
only serves the Python version that wrote it; the real layer is compiled by python3.12.

    .venv/bin/python benchmarks/cold_import.py [--runs 9]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import stat
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.5
SOURCE_PACKAGE = ROOT / "layers" / "core" / "cvat_serverless"
SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])
OWN_PYC = f"*.{sys.implementation.cache_tag}.pyc"  # what this interpreter reads; another version's are ignored

BOTO3 = "import boto3"
CORE_API = f"""
import importlib.util
spec = importlib.util.spec_from_file_location("core_api_app", {str(ROOT / "functions/core_api/app.py")!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from cvat_serverless import bootstrap
app = bootstrap.core_api()  # what the first request builds: the app and its (lazy) services
"""
# Lambda's bootstrap imports the handler module "app" from /var/task (the first sys.path entry).
LAYER_CORE_API = """
import app as function_module
from cvat_serverless import bootstrap
app = bootstrap.core_api()
"""
# What the first request under /api/tasks adds: the routers load on first use (api/function_apps.py).
LAYER_CORE_API_WITH_TASKS = LAYER_CORE_API + """
app.include_for("/api/tasks")
"""
# argv: the code to time, then (layouts only) {"sys_path", "forbidden": roots no module may come from, "layer"}.
PROBE = """
import json, sys, time
layout = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {"sys_path": [], "forbidden": [], "layer": None}
if layout["layer"]:
    sys.path[:] = layout["sys_path"] + [p for p in sys.path if p]
t = time.perf_counter()
exec(compile(sys.argv[1], "<bench>", "exec"))
seconds = time.perf_counter() - t
files = {name: getattr(m, "__file__", None) or "" for name, m in list(sys.modules.items())}
package = sys.modules.get("cvat_serverless")
print(json.dumps({
    "seconds": seconds,
    "loaded": sorted(m for m in ("boto3", "botocore", "pydantic", "PIL", "av", "numpy") if m in sys.modules),
    "package": getattr(package, "__file__", None),
    "foreign": sorted(n for n, f in files.items() if layout["forbidden"] and f.startswith(tuple(layout["forbidden"]))),
    "from_layer": sum(1 for f in files.values() if layout["layer"] and f.startswith(layout["layer"])),
}))
"""

# What Lambda sets: the X-Ray SDK (Tracer) takes its Lambda path (no sampling client at import).
LAMBDA_ENV = {
    "LAMBDA_TASK_ROOT": str(ROOT / "functions" / "core_api"),
    "AWS_LAMBDA_FUNCTION_NAME": "cvat-CoreApiFunction",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_METRICS_NAMESPACE": "CvatServerless",
    "CVAT_TABLE_NAME": "cvat-table",
    "CVAT_MEDIA_BUCKET": "cvat-media",
    "CVAT_EVENT_BUS_NAME": "cvat-bus",
}


def _build_layer() -> tuple[Callable[[Path], None], Callable[[Path, str], None]]:
    """layers/build_layer.py's ship_package and compile_tree: the same code `sam build` runs."""
    path = ROOT / "layers" / "build_layer.py"
    spec = importlib.util.spec_from_file_location("build_layer", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ship_package, module.compile_tree


class Layout:
    """A Lambda-like file layout: the function's code dir, the layer (+ deps), then `deps`."""

    def __init__(self, root: Path, task: Path, layer: Path, deps: list[Path], forbidden: list[Path]) -> None:
        self.root, self.task, self.layer = root, task, layer
        self.probe = json.dumps({"sys_path": [str(task), str(layer), *map(str, deps)],
                                 "forbidden": [str(p) + os.sep for p in forbidden], "layer": str(layer) + os.sep})

    def count(self, pattern: str) -> int:
        return sum(1 for _ in self.layer.rglob(pattern))


def _layer_distributions() -> list[metadata.Distribution]:
    """The core layer's packages (requirements.lock pins every one, transitive ones included), as
    installed in this venv."""
    lock = ROOT / "layers/core/requirements.lock"
    names = re.findall(r"^([A-Za-z0-9._-]+)==", lock.read_text(), re.M)
    try:
        return [metadata.distribution(name) for name in names]
    except metadata.PackageNotFoundError as error:
        raise SystemExit(f"{error.name} (in {lock.name}) is not installed in {sys.prefix}") from error


def _copy_distributions(dists: list[metadata.Distribution], dest: Path) -> None:
    for dist in dists:
        for file in dist.files or []:
            source = Path(str(dist.locate_file(file))).resolve()
            if "__pycache__" in file.parts or file.suffix == ".pyc" or not source.is_relative_to(SITE_PACKAGES):
                continue  # no .pyc; scripts under bin/ are not importable
            target = dest / source.relative_to(SITE_PACKAGES)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _read_only(tree: Path, writable: bool = False) -> None:
    for path in [tree, *tree.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            mode = path.stat().st_mode
            path.chmod(mode | stat.S_IWUSR if writable else mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


@contextmanager
def layouts() -> Iterator[dict[str, Layout]]:
    """The three layouts in a temp dir (read-only while measured), removed after."""
    ship_package, compile_tree = _build_layer()
    with tempfile.TemporaryDirectory(prefix="cold-import-") as tmp:
        root = Path(tmp)
        try:
            made: dict[str, Layout] = {}
            for name in ("shipped", "package-no-pyc", "no-pyc"):
                task, layer = root / name / "task", root / name / "opt" / "python"
                shutil.copytree(ROOT / "functions/core_api", task, ignore=shutil.ignore_patterns("__pycache__"))
                layer.mkdir(parents=True)
                ship_package(layer)
                with_deps = name == "no-pyc"
                if with_deps:
                    _copy_distributions(_layer_distributions(), layer)
                made[name] = Layout(root / name, task, layer, [] if with_deps else [SITE_PACKAGES],
                                    [SOURCE_PACKAGE, SITE_PACKAGES] if with_deps else [SOURCE_PACKAGE])
            compile_tree(made["shipped"].layer, sys.executable)
            if made["shipped"].count(OWN_PYC) < made["shipped"].count("*.py"):
                raise SystemExit(f"compile_tree left .py without a {OWN_PYC} under {made['shipped'].layer}")
            bare = [layout for name, layout in made.items() if name != "shipped"]
            if any(layout.count("__pycache__") for layout in bare):
                raise SystemExit("ship_package copied __pycache__ into the layer")
            _read_only(root)
            yield made
            if any(layout.count("__pycache__") for layout in bare):
                raise SystemExit("a run wrote __pycache__ into a layout without .pyc: the no-.pyc figures are void")
        finally:
            _read_only(root, writable=True)


def once(code: str, layout: Layout | None = None) -> tuple[float, str, int]:
    """Seconds the import took, the heavy packages it loaded, the modules it loaded from the layer."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("POWERTOOLS_", "AWS_", "PYTHONPATH", "PYTHONHOME"))} | LAMBDA_ENV
    command = [sys.executable, "-c", PROBE, code]
    if layout is not None:
        # -S: no site-packages and no .pth (so no editable-install finder); sys.path is the layout's.
        command = [sys.executable, "-S", "-c", PROBE, code, layout.probe]
        env |= {"PYTHONDONTWRITEBYTECODE": "1", "LAMBDA_TASK_ROOT": str(layout.task)}
    run = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT, env=env)
    if run.returncode != 0:
        where = f"the layout {layout.root}" if layout else "the editable install"
        raise SystemExit(f"the import failed in {where}:\n{run.stderr[-3000:]}")
    result = json.loads(run.stdout.splitlines()[-1])
    if layout is not None:
        package = result["package"] or ""
        if not package.startswith(str(layout.layer) + os.sep):
            raise SystemExit(f"cvat_serverless came from {package!r}, not from the layout {layout.layer}")
        if result["foreign"]:
            raise SystemExit(f"modules loaded from outside the layout {layout.root}: {result['foreign'][:10]}")
    return float(result["seconds"]), ", ".join(result["loaded"]), int(result["from_layer"])


def _source_pyc() -> str:
    """Whether the editable source tree has current .pyc (PYTHONDONTWRITEBYTECODE=1 leaves it without)."""
    sources = list(SOURCE_PACKAGE.rglob("*.py"))
    cached = sum(1 for source in sources if Path(importlib.util.cache_from_source(str(source))).exists())
    return f"{cached} of {len(sources)} .py have a .pyc"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    cases = [(name, code) for name in ("shipped", "package-no-pyc", "no-pyc")
             for code in (LAYER_CORE_API, LAYER_CORE_API_WITH_TASKS)]
    with layouts() as made:
        once(BOTO3), once(CORE_API), [once(code, made[name]) for name, code in cases]  # warm the file cache
        times: dict[str, list[float]] = defaultdict(list)
        modules: dict[str, int] = {}
        loaded, source_pyc = "", _source_pyc()
        for _ in range(args.runs):
            times["boto3"].append(once(BOTO3)[0])
            seconds, loaded, _ = once(CORE_API)
            times["editable"].append(seconds)
            for name, code in cases:
                key = name + ("+tasks" if code is LAYER_CORE_API_WITH_TASKS else "")
                seconds, _, modules[key] = once(code, made[name])
                times[key].append(seconds)
        compiled = made["shipped"].count(OWN_PYC)
        shipped_sources = made["package-no-pyc"].count("*.py")
        layer_sources = made["no-pyc"].count("*.py")
    ms = {name: statistics.median(values) * 1000 for name, values in times.items()}
    boto3_ms = ms["boto3"]

    def line(label: str, name: str) -> str:
        return f"{label}: {ms[name]:.1f} ms ({ms[name] / boto3_ms:.2f} x import boto3)"

    def pair(label: str, name: str, verb: str) -> None:
        print(line(f"{label}; {modules[name]} modules {verb}", name))
        tasks = name + "+tasks"
        print(line(f"#   + the /api/tasks router (the first request loads it); {modules[tasks]} modules {verb}",
                   tasks))

    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    print(f"python {version} ({sys.executable}); medians of {args.runs} runs, each in a fresh interpreter. "
          f"The layer's .pyc are compiled by this interpreter (a .pyc serves one Python version; "
          f"the real layer is compiled by python3.12, Lambda's runtime)")
    print(f"import boto3: {boto3_ms:.1f} ms")
    print(line(f"# editable install (the source tree: {source_pyc}), functions/core_api/app.py + "
               "bootstrap.core_api()", "editable") + f"; loads: {loaded or 'none of'} "
          "(boto3, botocore, pydantic, PIL, av, numpy)")
    pair(f"shipped layer (ship_package + compile_tree: {compiled} .pyc for {shipped_sources} .py; "
         "deps from the venv, with .pyc)", "shipped", "from the layer")
    pair("# the package without .pyc (deps from the venv, with .pyc), PYTHONDONTWRITEBYTECODE=1", "package-no-pyc",
         "compiled at import")
    pair(f"# no .pyc at all: the package and the core layer's deps (requirements.lock: {layer_sources} .py) "
         "copied without __pycache__, only the standard library has .pyc, PYTHONDONTWRITEBYTECODE=1", "no-pyc",
         "compiled at import")
    ratio = ms["shipped"] / boto3_ms
    print(f"core_api_cold_import_vs_boto3: {ratio:.2f} (target <= {TARGET})")  # the shipped layer
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
