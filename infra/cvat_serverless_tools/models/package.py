"""Build the SageMaker model artifact (``model.tar.gz``) of a YOLOX-family detector exported to ONNX.

The archive is what an AWS Deep Learning Container's SageMaker inference toolkit expects:

- ``model.onnx``: the weights (``decode_in_inference=False`` export, ``yolox_inference.py``);
- ``labels.json``: the class names in the model's output order, as CVAT ``labels_v2`` entries
  (``{"name", "type": "rectangle", "attributes": []}``); the handler reads ``name``, the deploy step
  copies the list into the registry entry;
- ``code/inference.py``: a copy of ``yolox_inference.py`` (model_fn/input_fn/predict_fn/output_fn);
- ``code/requirements.txt``: ``onnxruntime`` (CPU: serverless) or ``onnxruntime-gpu`` (GPU instances),
  pinned; the toolkit pip-installs it when the container starts.

The tar is deterministic (sorted members, fixed mtimes, owners and modes, a gzip header without
time or name), so packaging the same inputs twice gives the same bytes and the same S3 key.
Standard library only.
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import io
import json
import tarfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HANDLER = Path(__file__).with_name("yolox_inference.py")
# Both wheels exist for the inference images' Python (py312); onnxruntime-gpu 1.2x+ is built for
# CUDA 12 and cuDNN 9, which the PyTorch 2.6 GPU inference image carries.
ONNXRUNTIME_VERSION = "1.31.1"
MODEL_FILE = "model.onnx"
LABELS_FILE = "labels.json"
CODE_FILE = "code/inference.py"
REQUIREMENTS_FILE = "code/requirements.txt"
MEMBERS = (CODE_FILE, REQUIREMENTS_FILE, LABELS_FILE, MODEL_FILE)
MTIME = 946_684_800  # 2000-01-01T00:00:00Z: any fixed value; 0 makes some tools warn


class PackageError(ValueError):
    """The inputs cannot make a model artifact (missing file, bad labels)."""


@dataclass(frozen=True)
class Artifact:
    path: Path
    sha256: str
    gpu: bool
    labels: tuple[str, ...]


def requirements(gpu: bool) -> str:
    package = "onnxruntime-gpu" if gpu else "onnxruntime"
    return f"{package}=={ONNXRUNTIME_VERSION}\n"


def coco_labels(handler: Path = HANDLER) -> tuple[str, ...]:
    """The handler's own fallback names (``COCO_LABELS``), read from its source: importing it would
    load numpy and Pillow, which packaging does not need."""
    tree = ast.parse(handler.read_text(), str(handler))
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == "COCO_LABELS"):
            return tuple(str(name) for name in ast.literal_eval(node.value))
    raise PackageError(f"{handler} defines no COCO_LABELS")


def read_labels(path: Path) -> tuple[str, ...]:
    """Class names from a file: a JSON list of names or of objects with ``name`` (CVAT labels,
    ``labels_v2``), or plain text with one name a line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PackageError(f"cannot read the labels file {path}: {error.strerror}") from None
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            entries = json.loads(text)
        except json.JSONDecodeError as error:
            raise PackageError(f"{path} is not valid JSON: {error}") from None
        names = [entry.get("name") if isinstance(entry, dict) else entry for entry in entries]
    else:
        names = [line.strip() for line in text.splitlines() if line.strip()]
    return check_labels(names, str(path))


def check_labels(names: Iterable[Any], where: str = "labels") -> tuple[str, ...]:
    result = tuple(names)
    if not result:
        raise PackageError(f"{where}: no labels")
    bad = [name for name in result if not isinstance(name, str) or not name.strip()]
    if bad:
        raise PackageError(f"{where}: every label needs a non-empty name (got {bad[0]!r})")
    duplicates = sorted(name for name, count in Counter(result).items() if count > 1)
    if duplicates:
        raise PackageError(f"{where}: duplicate label names {duplicates}")
    return result


def labels_v2(names: Sequence[str]) -> list[dict[str, Any]]:
    """CVAT's ``labels_v2`` entries of a box detector."""
    return [{"name": name, "type": "rectangle", "attributes": []} for name in names]


def members(onnx: bytes, labels: Sequence[str], *, gpu: bool, handler: Path = HANDLER) -> dict[str, bytes]:
    """The archive's files, by name."""
    return {
        CODE_FILE: handler.read_bytes(),
        REQUIREMENTS_FILE: requirements(gpu).encode(),
        LABELS_FILE: (json.dumps(labels_v2(labels), indent=1) + "\n").encode(),
        MODEL_FILE: onnx,
    }


def tar_gz(files: dict[str, bytes]) -> bytes:
    """A deterministic gzip'd tar of ``files`` (name -> content), folders included."""
    folders = sorted({str(Path(name).parent) for name in files} - {"."})
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for folder in folders:
            tar.addfile(_info(folder, tarfile.DIRTYPE, 0o755, 0))
        for name in sorted(files):
            tar.addfile(_info(name, tarfile.REGTYPE, 0o644, len(files[name])), io.BytesIO(files[name]))
    packed = io.BytesIO()
    # filename="" and mtime keep the gzip header free of the build's name and time
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=MTIME, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return packed.getvalue()


def _info(name: str, kind: bytes, mode: int, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.size = size
    info.mtime = MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def build(onnx: Path, out: Path, *, labels: Sequence[str] | None = None, gpu: bool = False,
          handler: Path = HANDLER) -> Artifact:
    """Write ``out`` (a model.tar.gz) for the ONNX model ``onnx``; ``labels`` default to the 80 COCO
    classes that the handler falls back to (YOLOX's pretrained models)."""
    if not onnx.is_file():
        raise PackageError(f"no ONNX model at {onnx}")
    weights = onnx.read_bytes()
    if not weights:
        raise PackageError(f"{onnx} is empty")
    names = check_labels(labels) if labels is not None else coco_labels(handler)
    data = tar_gz(members(weights, names, gpu=gpu, handler=handler))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return Artifact(out, hashlib.sha256(data).hexdigest(), gpu, names)


@dataclass(frozen=True)
class ArtifactInfo:
    """What the deploy step reads back from an artifact."""

    sha256: str
    gpu: bool
    labels: tuple[str, ...]


def inspect(path: Path) -> ArtifactInfo:
    """Check that ``path`` is a model artifact of this module's shape and read its variant and labels."""
    data = path.read_bytes()
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            found = {m.name.removeprefix("./"): m for m in tar.getmembers() if m.isfile()}
            missing = [name for name in MEMBERS if name not in found]
            if missing:
                raise PackageError(f"{path} is not a model artifact: it lacks {', '.join(missing)}")
            requirement_text = _read(tar, found[REQUIREMENTS_FILE]).decode()
            entries = json.loads(_read(tar, found[LABELS_FILE]))
    except (tarfile.TarError, OSError, EOFError) as error:
        raise PackageError(f"{path} is not a gzip'd tar: {error}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PackageError(f"{path}: unreadable {LABELS_FILE} or {REQUIREMENTS_FILE}: {error}") from None
    packages = {line.split("==", 1)[0].strip() for line in requirement_text.splitlines() if line.strip()}
    if not isinstance(entries, list):
        raise PackageError(f"{path}: {LABELS_FILE} must be a JSON list")
    names = check_labels((e.get("name") if isinstance(e, dict) else e for e in entries), f"{path}:{LABELS_FILE}")
    return ArtifactInfo(hashlib.sha256(data).hexdigest(), "onnxruntime-gpu" in packages, names)


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    if handle is None:
        raise PackageError(f"cannot read {member.name}")
    return handle.read()
