"""`cvat-serverless model package`: the model.tar.gz a SageMaker DLC serves (infra/.../models/package.py)."""

from __future__ import annotations

import gzip
import json
import tarfile
from pathlib import Path

import pytest

from cvat_serverless_tools.admin.cli import main
from cvat_serverless_tools.models import offline, package
from cvat_serverless_tools.models.package import PackageError

HANDLER = Path(package.__file__).with_name("yolox_inference.py")


@pytest.fixture
def onnx(tmp_path: Path) -> Path:
    # packaging never parses the weights: any bytes stand for a model here
    path = tmp_path / "yolox_s.onnx"
    path.write_bytes(b"\x08\x07fake-onnx-weights" * 100)
    return path


def _members(path: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: m for m in tar.getmembers()}


def _read(path: Path, name: str) -> bytes:
    with tarfile.open(path, "r:gz") as tar:
        handle = tar.extractfile(name)
        assert handle is not None
        return handle.read()


def test_the_archive_holds_the_model_labels_handler_and_requirements(onnx: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "model.tar.gz"
    artifact = package.build(onnx, out)

    members = _members(out)
    assert sorted(members) == ["code", "code/inference.py", "code/requirements.txt", "labels.json", "model.onnx"]
    assert members["code"].isdir()
    assert _read(out, "model.onnx") == onnx.read_bytes()
    assert _read(out, "code/inference.py") == HANDLER.read_bytes()  # the handler, copied as is
    labels = json.loads(_read(out, "labels.json"))
    assert labels[0] == {"name": "person", "type": "rectangle", "attributes": []}
    assert [entry["name"] for entry in labels] == list(offline.COCO_LABELS)
    assert artifact.labels == offline.COCO_LABELS and not artifact.gpu


@pytest.mark.parametrize(("gpu", "requirement"), [
    (False, f"onnxruntime=={package.ONNXRUNTIME_VERSION}\n"),
    (True, f"onnxruntime-gpu=={package.ONNXRUNTIME_VERSION}\n"),
])
def test_requirements_pin_the_runtime_of_the_variant(onnx: Path, tmp_path: Path, gpu: bool, requirement: str) -> None:
    out = tmp_path / "model.tar.gz"
    package.build(onnx, out, gpu=gpu)

    assert _read(out, "code/requirements.txt").decode() == requirement
    assert package.inspect(out).gpu is gpu


def test_rebuilds_are_byte_identical(onnx: Path, tmp_path: Path) -> None:
    first = package.build(onnx, tmp_path / "a.tar.gz", labels=["cat", "dog"])
    onnx.touch()  # a newer file time must not show in the archive
    second = package.build(onnx, tmp_path / "b.tar.gz", labels=["cat", "dog"])

    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256 == second.sha256
    for member in _members(first.path).values():
        assert (member.mtime, member.uid, member.gid, member.uname, member.gname) == (package.MTIME, 0, 0, "", "")
    header = first.path.read_bytes()[:10]
    assert int.from_bytes(header[4:8], "little") == package.MTIME  # gzip's own time field
    assert gzip.decompress(first.path.read_bytes())  # a plain gzip stream


def test_a_different_model_or_variant_changes_the_bytes(onnx: Path, tmp_path: Path) -> None:
    cpu = package.build(onnx, tmp_path / "cpu.tar.gz")
    gpu = package.build(onnx, tmp_path / "gpu.tar.gz", gpu=True)
    relabelled = package.build(onnx, tmp_path / "labels.tar.gz", labels=["only"])

    assert len({cpu.sha256, gpu.sha256, relabelled.sha256}) == 3


@pytest.mark.parametrize(("text", "names"), [
    ('["cat", "dog"]', ("cat", "dog")),
    ('[{"name": "cat", "type": "rectangle", "attributes": []}, {"name": "dog", "id": 7}]', ("cat", "dog")),
    ("cat\n\n dog \n", ("cat", "dog")),
])
def test_labels_files_in_cvat_json_or_plain_text(tmp_path: Path, text: str, names: tuple[str, ...]) -> None:
    path = tmp_path / "labels"
    path.write_text(text)

    assert package.read_labels(path) == names


@pytest.mark.parametrize(("text", "message"), [
    ("[]", "no labels"),
    ('["cat", "cat"]', "duplicate label names ['cat']"),
    ('["cat", ""]', "non-empty name"),
    ('[{"id": 1}]', "non-empty name"),
    ('["cat",', "not valid JSON"),
])
def test_bad_labels_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "labels.json"
    path.write_text(text)

    with pytest.raises(PackageError, match=message.replace("[", r"\[").replace("]", r"\]")):
        package.read_labels(path)


def test_a_missing_or_empty_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match="no ONNX model"):
        package.build(tmp_path / "absent.onnx", tmp_path / "m.tar.gz")
    (tmp_path / "empty.onnx").write_bytes(b"")
    with pytest.raises(PackageError, match="is empty"):
        package.build(tmp_path / "empty.onnx", tmp_path / "m.tar.gz")
    assert not (tmp_path / "m.tar.gz").exists()


def test_inspect_reads_back_the_variant_and_labels(onnx: Path, tmp_path: Path) -> None:
    built = package.build(onnx, tmp_path / "m.tar.gz", labels=["a", "b", "c"], gpu=True)

    info = package.inspect(built.path)
    assert (info.sha256, info.gpu, info.labels) == (built.sha256, True, ("a", "b", "c"))


def test_inspect_refuses_what_is_not_an_artifact(tmp_path: Path) -> None:
    plain = tmp_path / "plain.tar.gz"
    plain.write_bytes(b"not a tar")
    with pytest.raises(PackageError, match="not a gzip'd tar"):
        package.inspect(plain)

    partial = tmp_path / "partial.tar.gz"
    partial.write_bytes(package.tar_gz({"model.onnx": b"x"}))
    with pytest.raises(PackageError, match=r"lacks code/inference.py, code/requirements.txt, labels.json"):
        package.inspect(partial)


def test_the_default_labels_are_the_handlers_fallback() -> None:
    assert package.coco_labels() == offline.COCO_LABELS
    assert len(package.coco_labels()) == 80


def test_the_command_packages_with_a_labels_file(onnx: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("helmet\nvest\n")
    out = tmp_path / "model.tar.gz"

    assert main(["model", "package", "--onnx", str(onnx), "--labels", str(labels), "--gpu", "-o", str(out)]) == 0

    printed = capsys.readouterr().out
    assert "2 labels, GPU (onnxruntime-gpu)" in printed and package.inspect(out).sha256 in printed
    assert [e["name"] for e in json.loads(_read(out, "labels.json"))] == ["helmet", "vest"]


def test_the_command_explains_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["model", "package", "--onnx", str(tmp_path / "nope.onnx"), "-o", str(tmp_path / "m.tar.gz")]) == 2
    assert "no ONNX model at" in capsys.readouterr().err


@pytest.mark.skipif(not offline.weights_installed(), reason="the YOLOX-nano weights are not installed (make setup)")
def test_the_command_defaults_to_the_installed_yolox_nano(tmp_path: Path) -> None:
    out = tmp_path / "nano.tar.gz"

    assert main(["model", "package", "-o", str(out)]) == 0

    assert _read(out, "model.onnx") == offline.yolox_nano_path().read_bytes()
    assert package.inspect(out).labels == offline.COCO_LABELS
