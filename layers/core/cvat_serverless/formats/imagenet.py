"""ImageNet 1.0 (image classification), exporter and importer.

As CVAT (Datumaro ``imagenet`` / ``imagenet_txt``), the layout depends on whether images are
exported::

    with images                         without images
    <label>/<frame name>                <subset>.txt   "<frame name> <label index> ..." per frame
    no_label/<frame name>               synsets.txt    label names, one a line (index = line - 1)

With images, a frame is stored once per label it is tagged with (``no_label/`` when it has no
tag); frames whose image the callback does not give are left out, with their tags.

What the format keeps: which labels tag which frame. What it loses (as CVAT's docs say): every
shape and track, tag attributes, ``group``, ``source`` (imported as ``manual``), repeated tags
of one label on a frame (one is kept), the subset (with images).

Import reads either layout (``*.txt`` + ``synsets.txt``, else ``<label>/<image>`` folders).
Frames are matched by file name (else base name or name without extension); label indexes the
file does not list, labels the task does not have, unknown frames and malformed lines are
:class:`FormatError`\\ s naming the file and line.
"""

from __future__ import annotations

import posixpath
import shlex
from typing import BinaryIO

from cvat_serverless.domain.annotations import DatasetView, FrameInfo, LabeledData, LabeledImage, LabelSpec
from cvat_serverless.domain.errors import FormatError

from .archive import ExportArchive, ImportFiles, open_import
from .common import FrameMap, ImageProvider, LabelMap, check_label, format_error, group_by_frame
from .registry import exporter, importer

__all__ = ["export_imagenet", "import_imagenet"]

LABELS_FILE = "synsets.txt"
NO_LABEL = "no_label"
_IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".jpe", ".pgm", ".ppm")


def _tag_labels(view: DatasetView) -> dict[int, list[LabelSpec]]:
    """Per frame, the distinct tag labels (in the order of the task's labels)."""
    order = {label.id: i for i, label in enumerate(view.labels)}
    out: dict[int, list[LabelSpec]] = {}
    for fa in group_by_frame(view, with_tracks=False):
        ids = sorted({t.label_id for t in fa.tags if t.label_id in order}, key=order.__getitem__)
        out[fa.frame.frame] = [view.labels[order[i]] for i in ids]
    return out


def _quoted(name: str) -> str:
    return f'"{name}"' if any(c.isspace() for c in name) else name


@exporter(name="ImageNet", ext="ZIP", version="1.0")
def export_imagenet(view: DatasetView, out: BinaryIO, images: ImageProvider | None = None) -> None:
    tags = _tag_labels(view)
    index = {label.id: i for i, label in enumerate(view.labels)}
    with ExportArchive(out) as archive:
        if images is not None:
            for frame in view.frames:
                for folder in [label.name for label in tags[frame.frame]] or [NO_LABEL]:
                    archive.write_image(f"{folder}/{frame.name}", images(frame.frame))
            return
        subsets: dict[str, list[FrameInfo]] = {}
        for frame in view.frames:
            subsets.setdefault(frame.subset or "default", []).append(frame)
        for subset, frames in subsets.items():
            with archive.open_text(f"{subset}.txt") as f:
                for frame in frames:
                    ids = " ".join(str(index[label.id]) for label in tags[frame.frame])
                    f.write(f"{_quoted(frame.name)} {ids}".rstrip() + "\n")
        with archive.open_text(LABELS_FILE) as f:
            f.writelines(label.name + "\n" for label in view.labels)


def _read_lists(files: ImportFiles, view: DatasetView, labels_file: str) -> LabeledData:
    labels = LabelMap(view.labels)
    frames = FrameMap(view.frames)
    names = [line.strip() for line in files.read_text(labels_file).splitlines() if line.strip()]
    root = posixpath.dirname(labels_file)
    tags: list[LabeledImage] = []
    lists = [n for n in files.names() if n.endswith(".txt") and n != labels_file and posixpath.dirname(n) == root]
    if not lists:
        raise FormatError(f"{files.filename}: no <subset>.txt list next to {labels_file}")
    for name in sorted(lists):
        for line_no, raw in enumerate(files.read_text(name).splitlines(), 1):
            if not raw.strip():
                continue
            try:
                fields = shlex.split(raw)
            except ValueError as exc:
                raise format_error(name, f"malformed line ({exc})", line_no) from None
            where = f"{name}, line {line_no}"
            frame = frames.match(fields[0], where)
            seen: set[int] = set()
            for token in fields[1:]:
                try:
                    idx = int(token)
                except ValueError:
                    raise format_error(name, f"label index '{token}' is not an integer", line_no) from None
                if not 0 <= idx < len(names):
                    raise format_error(name, f"label index {idx} is not in {LABELS_FILE} ({len(names)} names)", line_no)
                label = labels.resolve(names[idx], where)
                check_label(label, None, where)
                if label.id not in seen:
                    seen.add(label.id)
                    tags.append(LabeledImage(frame, label.id))
    return LabeledData(tags=tags)


def _read_folders(files: ImportFiles, view: DatasetView) -> LabeledData:
    labels = LabelMap(view.labels)
    frames = FrameMap(view.frames)
    tags: dict[tuple[int, int], LabeledImage] = {}
    images = [n for n in files.names() if n.lower().endswith(_IMAGE_EXTS) and "/" in n]
    if not images:
        raise FormatError(
            f"{files.filename}: no {LABELS_FILE} and no <label>/<image> folders (not an ImageNet archive)"
        )
    for name in sorted(images):
        folder, _, rest = name.partition("/")
        if folder == NO_LABEL:
            continue
        label = labels.resolve(folder, name)
        check_label(label, None, name)
        frame = frames.match(rest, name)
        tags.setdefault((frame, label.id), LabeledImage(frame, label.id))
    return LabeledData(tags=list(tags.values()))


@importer(name="ImageNet", ext="ZIP", version="1.0")
def import_imagenet(src: BinaryIO, view: DatasetView, filename: str) -> LabeledData:
    with open_import(src, filename) as files:
        if not files.is_archive:
            raise FormatError(f"{filename}: ImageNet needs a ZIP archive")
        found = files.find(LABELS_FILE)
        if found:
            return _read_lists(files, view, min(found, key=len))
        return _read_folders(files, view)
