"""Segmentation mask 1.1, exporter and importer.

Archive (as CVAT writes it: Datumaro's ``voc_segmentation`` with the task's label colours)::

    labelmap.txt                        "# label:color_rgb:parts:actions", "background:0,0,0::", "<name>:r,g,b::"
    ImageSets/Segmentation/<subset>.txt every frame's stem
    SegmentationClass/<stem>.png        each pixel painted with its label's colour (palette PNG)
    SegmentationObject/<stem>.png       each pixel painted with its instance's index (VOC palette)
    JPEGImages/<frame name>             only with images

Only frames with something painted get PNGs. Colours are the task's label colours when they are
all set and distinct, else VOC's palette by label index (the label map says which).

What is painted: the visible polygons, masks and rectangles (rotated ones turned) of every
frame, track frames included, in ``z_order`` (later shapes on top). Shapes of one label that
share a non-zero ``group`` are one instance (CVAT's ``merge_instance_segments``).

The importer gives one **mask** per instance (CVAT turns them into polygons; masks are exact).
What the format loses: shape types (everything comes back as a mask), pixels that a later
instance covers, polylines, points, ellipses, cuboids, skeletons, tags, attributes,
``occluded``, ``z_order``, ``group`` (merged shapes stay merged), ``source`` (imported as
``manual``), ``score``, tracks (each frame's mask is a plain shape), more than 254 instances
per frame (an export error).

Import reads ``SegmentationObject`` + ``SegmentationClass`` (or only ``SegmentationClass``: one
mask per class), colours mapped through ``labelmap.txt`` (or the task's labels when it is
missing). Class colours not in the map, classes the task does not have, PNGs of the wrong size
and unmatched file names are :class:`FormatError`\\ s naming the file.
"""

from __future__ import annotations

from typing import BinaryIO

from cvat_serverless.domain.annotations import DatasetView, LabeledData, LabeledShape, ShapeType
from cvat_serverless.domain.errors import FormatError

from ._raster import png_bytes, voc_colormap
from .archive import ExportArchive, open_import
from .common import FrameAnnotations, ImageProvider, group_by_frame
from .registry import exporter, importer
from .voc import VocReader, label_colors, paint, segmentation_instances, write_labelmap
from .yolo import stem_of

__all__ = ["export_segmentation_mask", "import_segmentation_mask"]

_PAINTED = {ShapeType.POLYGON, ShapeType.MASK, ShapeType.RECTANGLE}


def _instances(fa: FrameAnnotations) -> list[list[LabeledShape]]:
    """Shapes in painting order, those of one label and non-zero group merged into one."""
    out: list[list[LabeledShape]] = []
    grouped: dict[tuple[int, int], list[LabeledShape]] = {}
    for shape in segmentation_instances(fa, _PAINTED):
        if shape.group:
            key = (shape.label_id, shape.group)
            if key not in grouped:
                grouped[key] = []
                out.append(grouped[key])
            grouped[key].append(shape)
        else:
            out.append([shape])
    return out


@exporter(name="Segmentation mask", ext="ZIP", version="1.1")
def export_segmentation_mask(view: DatasetView, out: BinaryIO, images: ImageProvider | None = None) -> None:
    class_of = {label.id: i + 1 for i, label in enumerate(view.labels)}
    colors = label_colors(view.labels)
    subsets: dict[str, list[str]] = {}
    with ExportArchive(out) as archive:
        for fa in group_by_frame(view):
            stem = stem_of(fa.frame.name)
            subsets.setdefault(fa.frame.subset or "default", []).append(stem)
            painted = paint(fa.frame, _instances(fa), class_of)
            if painted is None:
                continue
            classes, objects, _ = painted
            archive.write_bytes(f"SegmentationClass/{stem}.png", png_bytes(classes, colors), compress=False)
            archive.write_bytes(f"SegmentationObject/{stem}.png", png_bytes(objects, voc_colormap()), compress=False)
        for subset, stems in subsets.items():
            with archive.open_text(f"ImageSets/Segmentation/{subset}.txt") as f:
                f.writelines(s + "\n" for s in stems)
        with archive.open_text("labelmap.txt") as f:
            write_labelmap(f, view.labels, colors)
        archive.write_images(view, images, lambda fr: f"JPEGImages/{fr.name}")


@importer(name="Segmentation mask", ext="ZIP", version="1.1")
def import_segmentation_mask(src: BinaryIO, view: DatasetView, filename: str) -> LabeledData:
    with open_import(src, filename) as files:
        if not files.is_archive:
            raise FormatError(f"{filename}: Segmentation mask needs a ZIP archive")
        if not any(("/" + n).find("/Segmentation") >= 0 for n in files.names()):
            raise FormatError(f"{filename}: no SegmentationClass/ or SegmentationObject/ masks (not a mask archive)")
        reader = VocReader(view, files)
        reader.read_segmentation()
        return reader.result()
