"""What the Lambda layers ship: product code and its locked dependencies, built for the runtime.

The layers are built by layers/build_layer.py (template.yaml: ``BuildMethod: makefile``): the
wheels of layers/<layer>/requirements.lock, pinned by hash and resolved for Lambda's python3.12 on
arm64, plus (core) the cvat_serverless package as ship_package copies it, everything precompiled
by Python 3.12. The embedded runtime and the `cvat-serverless` command (infra/cvat_serverless_tools)
need moto, werkzeug and aws-sam-translator, which no layer installs: a copy of them inside a layer
is dead weight at best and an ImportError at worst.
"""

from __future__ import annotations

import ast
import importlib.util
import platform
import re
import shutil
import struct
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
SAM = yaml_parse((ROOT / "template.yaml").read_text())
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

# Packages of the dev tools and of the embedded AWS: none may be inside a layer.
DEV_ONLY = ("cvat_serverless_tools", "moto", "werkzeug", "flask", "samtranslator", "cfnlint", "pytest",
            "hypothesis", "cvat_sdk", "cvat_cli")
# The tools' old home inside the product package.
DEV_SUBPACKAGES = (("cvat_serverless", "local"), ("cvat_serverless", "admin"))
# Where the media functions find these: the media layer beside the core layer.
MEDIA_IMPORTS = {"av": "av", "pillow": "PIL", "numpy": "numpy"}
# Lambda's limit on a function's code and layers together, unzipped.
UNZIPPED_LIMIT = 262_144_000
GLIBC_MAX = (2, 34)  # the python3.12 runtime is Amazon Linux 2023
EM_AARCH64 = 183


def _load_build_layer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_layer", ROOT / "layers" / "build_layer.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_layer = _load_build_layer()


def _layer(logical_id: str) -> dict:
    resource = SAM["Resources"][logical_id]
    assert resource["Type"] == "AWS::Serverless::LayerVersion"
    return resource


# ---------------------------------------------------------------- the lock files (fast, no network)

def _lock_entries(path: Path) -> list[tuple[Requirement, list[str]]]:
    """Each entry of a hash-pinned requirements file: the requirement and its --hash options."""
    text = re.sub(r"\\\n", " ", path.read_text())
    entries = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        spec, *options = line.split(" --")
        entries.append((Requirement(spec.strip()), [o.strip() for o in options]))
    return entries


LOCKS = {
    "CoreLayer": ("core", PYPROJECT["project"]["dependencies"]),
    "MediaLayer": ("media", PYPROJECT["project"]["optional-dependencies"]["media"]),
}


@pytest.mark.parametrize("logical_id", sorted(LOCKS))
def test_the_lock_pins_every_package_by_hash_within_the_pyproject_ranges(logical_id):
    folder, direct = LOCKS[logical_id]
    lock = ROOT / _layer(logical_id)["Properties"]["ContentUri"] / "requirements.lock"
    assert lock == build_layer.LOCK_FILES[folder]
    entries = _lock_entries(lock)
    names = [canonicalize_name(req.name) for req, _ in entries]
    assert len(names) == len(set(names)), f"a package twice in {lock}"
    pinned = {}
    for (req, options), name in zip(entries, names, strict=True):
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{req}: not an exact pin"
        assert options and all(re.fullmatch(r"hash=sha256:[0-9a-f]{64}", o) for o in options), f"{req}: {options}"
        pinned[name] = Version(specs[0].version)
    for spec in direct:
        wanted = Requirement(spec)
        name = canonicalize_name(wanted.name)
        assert name in pinned, f"{wanted.name} (pyproject.toml) is not in {lock.name}: run `make lock`"
        assert wanted.specifier.contains(pinned[name], prereleases=True), \
            f"{name}=={pinned[name]} is outside pyproject's {wanted.specifier}: run `make lock`"


def test_the_lock_check_catches_a_pin_outside_the_range_and_a_missing_hash(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("# header\nnumpy==1.26.4 \\\n    --hash=sha256:" + "0" * 64 + "\npillow==11.0.0\n")
    (numpy, numpy_hashes), (_pillow, pillow_hashes) = _lock_entries(lock)
    assert not Requirement("numpy>=2").specifier.contains(Version(next(iter(numpy.specifier)).version))
    assert numpy_hashes == ["hash=sha256:" + "0" * 64] and pillow_hashes == []


@pytest.mark.parametrize("logical_id", sorted(LOCKS))
def test_the_layers_are_built_by_their_makefile_with_build_layer(logical_id):
    layer = _layer(logical_id)
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Metadata"]["BuildArchitecture"] == "arm64"
    makefile = (ROOT / layer["Properties"]["ContentUri"] / "Makefile").read_text()
    folder = LOCKS[logical_id][0]
    assert re.search(rf"^build-{logical_id}:\n\t.*build_layer\.py {folder} \"\$\(ARTIFACTS_DIR\)/python\"$",
                     makefile, re.M), makefile


# ---------------------------------------------------------------- what ship_package copies

def _python_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*.py")):
        if "__pycache__" not in path.parts:
            yield path


def _top_level_imports(path: Path) -> set[str]:
    """Every absolute import of a module, lazy ones inside functions included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _dev_items(folder: Path) -> list[str]:
    found = []
    for entry in folder.rglob("*"):
        rel = entry.relative_to(folder)
        top = rel.parts[0].split("-")[0].lower().removesuffix(".py")
        if top in DEV_ONLY or rel.parts[:2] in DEV_SUBPACKAGES:
            found.append(str(rel))
    return sorted(found)[:20]


def _undeclared_imports(package: Path, installed: set[str]) -> dict[str, set[str]]:
    """Modules of ``package`` that import something neither the standard library nor ``installed``
    provides (``installed``: the top-level names a function's layers put on its path)."""
    allowed = set(sys.stdlib_module_names) | installed | {package.name}
    problems: dict[str, set[str]] = {}
    for path in _python_files(package):
        missing = _top_level_imports(path) - allowed
        if missing:
            problems[str(path.relative_to(package.parent))] = missing
    return problems


def test_the_core_layer_source_holds_product_code_and_its_build_only():
    content = ROOT / _layer("CoreLayer")["Properties"]["ContentUri"]
    present = (p.name for p in content.iterdir() if p.name != "__pycache__" and not p.name.endswith(".egg-info"))
    assert sorted(present) == ["Makefile", "cvat_serverless", "requirements.lock"]
    assert _dev_items(content) == []


def test_ship_package_copies_product_code_only(tmp_path, monkeypatch):
    """A tools subpackage, tests or caches put back in the source never reach the layer."""
    source = tmp_path / "src" / "cvat_serverless"
    shutil.copytree(build_layer.PACKAGE_SOURCE, source, ignore=shutil.ignore_patterns("__pycache__"))
    for extra in ("local/runtime.py", "admin/cli.py", "tests/test_x.py", "__pycache__/config.cpython-312.pyc",
                  "api/__pycache__/x.pyc", "domain/tests/test_y.py"):
        (source / extra).parent.mkdir(parents=True, exist_ok=True)
        (source / extra).write_text("import moto\n")
    (tmp_path / "src" / "cvat_serverless.egg-info").mkdir()
    monkeypatch.setattr(build_layer, "PACKAGE_SOURCE", source)

    build_layer.ship_package(tmp_path / "out")

    shipped = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*"))
    assert "cvat_serverless/api/cvat_api.py" in shipped
    assert [p for p in shipped if re.search(r"local|admin|tests|__pycache__|\.pyc$|egg-info", p)] == []
    assert _dev_items(tmp_path / "out") == []


def test_the_import_check_catches_a_dev_module_put_back(tmp_path):
    """The import check of the built layer fails on the mistake it exists for: the embedded runtime back in."""
    package = tmp_path / "cvat_serverless"
    shutil.copytree(ROOT / "layers" / "core" / "cvat_serverless", package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "infra" / "cvat_serverless_tools" / "local", package / "local",
                    ignore=shutil.ignore_patterns("__pycache__"))
    installed = {"boto3", "botocore", "aws_lambda_powertools", "pynamodb", "pydantic", "argon2", "orjson",
                 *MEDIA_IMPORTS.values()}
    problems = _undeclared_imports(package, installed)
    assert any(p.startswith("cvat_serverless/local/") for p in problems), problems
    assert {"moto", "werkzeug"} & set().union(*problems.values())
    assert "cvat_serverless/local" in _dev_items(tmp_path)


# ---------------------------------------------------------------- native code: a small ELF reader

def elf_facts(path: Path) -> tuple[int, set[tuple[int, int]]]:
    """An ELF64 little-endian file's e_machine and the GLIBC_x.y versions its .gnu.version_r needs."""
    data = path.read_bytes()
    assert data[:4] == b"\x7fELF", f"{path}: not an ELF file"
    assert data[4] == 2 and data[5] == 1, f"{path}: not ELF64 little-endian"
    machine = struct.unpack_from("<H", data, 0x12)[0]
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    versions: set[tuple[int, int]] = set()
    for _name, sh_type, _flags, _addr, offset, _size, link, info, _align, _entsize in sections:
        if sh_type != 0x6FFFFFFE:  # SHT_GNU_verneed
            continue
        strtab = sections[link][4]

        def string(at: int, strtab: int = strtab) -> str:
            return data[strtab + at:data.index(b"\0", strtab + at)].decode()

        need = offset
        for _ in range(info):  # sh_info: the number of Verneed entries
            _version, count, _file, aux, next_need = struct.unpack_from("<HHIII", data, need)
            entry = need + aux
            for _ in range(count):
                _hash, _flags2, _other, name, next_aux = struct.unpack_from("<IHHII", data, entry)
                found = re.fullmatch(r"GLIBC_(\d+)\.(\d+)(?:\.\d+)?", string(name))
                if found:
                    versions.add((int(found[1]), int(found[2])))
                entry += next_aux
            need += next_need
    return machine, versions


def test_the_elf_reader_reads_this_interpreters_own_native_code():
    """This machine's own native code: its architecture, and some GLIBC_2.x on a glibc machine.
    pydantic-core (a dependency of the package) is always installed; the interpreter's own
    lib-dynload modules are read too where it has them."""
    import pydantic_core._pydantic_core as native

    candidates = [Path(str(native.__file__)), *sorted(Path(sys.base_prefix, "lib").glob("python3*/lib-dynload/*.so"))]
    facts = [elf_facts(path) for path in candidates]
    assert {machine for machine, _ in facts} == {{"x86_64": 62, "aarch64": EM_AARCH64}.get(platform.machine(), 0)}
    versions = set().union(*(found for _, found in facts))
    assert versions and min(versions) >= (2, 0)


def test_the_abi_check_judges_by_file_name_else_by_wheel():
    owners = {"numpy.libs/libopenblas.so": ["cp312-cp312-manylinux_2_28_aarch64"],
              "old.libs/libx.so.1": ["cp311-cp311-manylinux_2_28_aarch64"],
              "av.libs/libavcodec.so.61": ["cp312-abi3-manylinux_2_28_aarch64"]}
    assert _abi_problem("numpy/_core/_multiarray_umath.cpython-312-aarch64-linux-gnu.so", owners) is None
    assert _abi_problem("av/frame.abi3.so", owners) is None
    assert _abi_problem("numpy.libs/libopenblas.so", owners) is None
    assert _abi_problem("av.libs/libavcodec.so.61", owners) is None
    assert _abi_problem("x/_c.cpython-311-aarch64-linux-gnu.so", owners) == "tagged cpython-311-aarch64-linux-gnu"
    assert "untagged, from a wheel tagged" in (_abi_problem("old.libs/libx.so.1", owners) or "")
    assert _abi_problem("stray/libfoo.so", owners) == "untagged and from no wheel"


def _wheel_owners(tree: Path) -> dict[str, list[str]]:
    """Each installed file (relative path) -> the tags of the wheel it came from (*.dist-info/WHEEL)."""
    owners: dict[str, list[str]] = {}
    for info in tree.glob("*.dist-info"):
        tags = [line.split(":", 1)[1].strip() for line in (info / "WHEEL").read_text().splitlines()
                if line.startswith("Tag:")]
        for row in (info / "RECORD").read_text().splitlines():
            owners[row.rsplit(",", 2)[0]] = tags
    return owners


def _abi_problem(rel: str, owners: dict[str, list[str]]) -> str | None:
    """Why a shared object may not load on CPython 3.12 (by its file name's tag, else its wheel's)."""
    name = rel.rsplit("/", 1)[-1]
    tagged = re.search(r"\.(cpython-\d+[^.]*|abi3)\.so$", name)
    if tagged:
        tag = tagged[1]
        ok = tag == "abi3" or tag.startswith("cpython-312-")
        return None if ok else f"tagged {tag}"
    tags = owners.get(rel)
    if not tags:
        return "untagged and from no wheel"
    abis = {tag.split("-")[1] for tag in tags}
    return None if abis <= {"cp312", "abi3"} else f"untagged, from a wheel tagged {tags}"


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*")
               if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


def _tree_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# ---------------------------------------------------------------- the built layers (slow: PyPI)

@pytest.fixture(scope="module")
def built_layers(tmp_path_factory) -> dict[str, Path]:
    """Both layers as SAM builds them (build_layer.build), each the content of the layer zip."""
    try:
        python = build_layer.find_python312()
    except build_layer.BuildError as error:
        pytest.fail(str(error))
    out = tmp_path_factory.mktemp("layers")
    built = {}
    for logical_id, (folder, _) in sorted(LOCKS.items()):
        build_layer.build(folder, out / logical_id / "python", python)
        built[logical_id] = out / logical_id
    return built


@pytest.mark.slow
def test_every_native_library_is_aarch64_cpython312_and_glibc_234(built_layers):
    problems = []
    count = 0
    for logical_id, zip_root in built_layers.items():
        tree = zip_root / "python"
        owners = _wheel_owners(tree)
        for path in sorted(p for p in tree.rglob("*") if p.is_file() and re.search(r"\.so(\.\d+)*$", p.name)):
            count += 1
            rel = str(path.relative_to(tree))
            machine, glibc = elf_facts(path)
            if machine != EM_AARCH64:
                problems.append(f"{logical_id} {rel}: e_machine {machine}")
            if glibc and max(glibc) > GLIBC_MAX:
                problems.append(f"{logical_id} {rel}: needs GLIBC_{'.'.join(map(str, max(glibc)))}")
            abi = _abi_problem(rel, owners)
            if abi:
                problems.append(f"{logical_id} {rel}: {abi}")
    assert count > 0
    assert problems == []


@pytest.mark.slow
def test_the_core_layer_is_product_code_and_locked_wheels_all_precompiled(built_layers):
    tree = built_layers["CoreLayer"] / "python"
    assert (tree / "cvat_serverless" / "api" / "cvat_api.py").is_file()
    assert _dev_items(tree) == []
    assert [p for p in (tree / "cvat_serverless").rglob("*") if p.name in ("local", "admin", "tests")] == []
    assert [p for p in tree.rglob("*.egg-info")] == []
    for zip_root in built_layers.values():
        missing = [str(p.relative_to(zip_root)) for p in _python_files(zip_root)
                   if not (p.parent / "__pycache__" / f"{p.stem}.cpython-312.pyc").is_file()]
        assert missing == []
    # unchecked-hash .pyc: flags 0b01 (hash-based, the source never checked), no mtime inside
    pyc = tree / "cvat_serverless" / "api" / "__pycache__" / "cvat_api.cpython-312.pyc"
    assert struct.unpack_from("<I", pyc.read_bytes(), 4)[0] == 0b01
    assert b"/opt/python/cvat_serverless/api/cvat_api.py" in pyc.read_bytes()
    installed = {p.name.split(".")[0] for p in tree.iterdir() if not p.name.endswith((".dist-info", ".data"))}
    installed |= set(MEDIA_IMPORTS.values())  # the media functions also get the media layer
    assert _undeclared_imports(tree / "cvat_serverless", installed) == {}


def _layer_ids(layers: list | None) -> list[str]:
    return [entry["Ref"] for entry in layers or []]


@pytest.mark.slow
def test_every_function_with_its_layers_fits_the_unzipped_limit(built_layers):
    layer_sizes = {logical_id: _tree_size(root) for logical_id, root in built_layers.items()}
    globals_layers = _layer_ids(SAM["Globals"]["Function"].get("Layers"))
    sizes = {}
    for logical_id, resource in sorted(SAM["Resources"].items()):
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        layers = globals_layers + _layer_ids(properties.get("Layers"))
        assert set(layers) <= set(layer_sizes), f"{logical_id}: a layer this test does not build: {layers}"
        sizes[logical_id] = _size(ROOT / properties["CodeUri"]) + sum(layer_sizes[layer] for layer in layers)
    report = "\n".join([*(f"{k}: {v:,} bytes" for k, v in sorted(layer_sizes.items())),
                        *(f"{k}: {v:,} bytes with its layers" for k, v in sorted(sizes.items()))])
    print(f"\nunzipped sizes (limit {UNZIPPED_LIMIT:,}):\n{report}")
    assert sizes and max(sizes.values()) < UNZIPPED_LIMIT, report
