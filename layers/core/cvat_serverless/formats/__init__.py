"""Dataset formats: pure exporters and importers over file objects, with a registry.

How a format plugs in
=====================

One module per format in this package (``coco.py``, ``yolo.py``, ...). The module registers its
functions with the decorators of :mod:`cvat_serverless.formats.registry`; the registry imports
every module of this package whose name does not start with ``_`` (and is not one of the helper
modules ``registry``, ``archive``, ``common``) the first time anyone lists or looks up a format,
so adding a module is all it takes::

    from typing import BinaryIO

    from cvat_serverless.domain.annotations import DatasetView, LabeledData
    from cvat_serverless.formats.archive import ExportArchive, open_import
    from cvat_serverless.formats.common import ImageProvider, flatten_annotations
    from cvat_serverless.formats.registry import exporter, importer

    @exporter(name="My format", ext="ZIP", version="1.0")
    def export_my_format(view: DatasetView, out: BinaryIO, images: ImageProvider | None) -> None:
        with ExportArchive(out) as archive:
            with archive.open_text("annotations/default.txt") as f:  # streams into the ZIP
                for frame, items in flatten_annotations(view):            # tracks -> shapes
                    ...
            archive.write_images(view, images, "images/{subset}/{name}")  # only if images given

    @importer(name="My format", ext="ZIP", version="1.0")
    def import_my_format(src: BinaryIO, view: DatasetView, filename: str) -> LabeledData:
        with open_import(src, filename) as files:       # safe: zip-slip, zip-bomb, bare files
            text = files.read_text("annotations/default.txt")
            ...                                          # resolve names with common.LabelMap,
                                                         # common.FrameMap; raise FormatError

Contracts:

* Exporters write one ZIP to ``out`` (which may be non-seekable) and never build the whole
  annotation file as one string: write through :meth:`ExportArchive.open_text` in pieces.
  Images come only from the ``images`` callback (``frame -> bytes | file object | None``); with
  ``images=None`` the archive has annotations only (CVAT's ``save_images=False``).
* Importers return a :class:`~cvat_serverless.domain.annotations.LabeledData` whose label ids
  and frame numbers are the task's (``view.labels``, ``view.frames``). A label the task does not
  have is an error (CVAT's behaviour), as are unknown frames, wrong structure and malformed
  files: raise :class:`~cvat_serverless.domain.errors.FormatError` (or a subclass) with a
  message that names the file and, where known, the line (``common.format_error`` helps).
* Format modules must not import AWS, powertools or ``cvat_serverless.media``. numpy / Pillow
  (the ``media`` extra) are allowed but must be imported inside the functions that use them, so
  that listing the formats (``GET /api/server/annotation/formats``, on the API's cold-start
  path) never loads the media stack.
* Each module's docstring says what the format loses (as CVAT's format docs do); the round-trip
  tests in ``tests/unit/formats`` check exactly what it keeps.
"""
