"""Run by the Datumaro venv's python (not by pytest): Datumaro's side of the cross-checks.

python datumaro_probe.py count <datumaro format> <dir>   -> JSON counts of what Datumaro read
python datumaro_probe.py write <datumaro format> <dir>   -> Datumaro writes a small dataset
                                                             (frames img_0..img_5.jpg, 64x48)
"""

from __future__ import annotations

import collections
import json
import sys

import datumaro as dm
import numpy as np

LABELS = ["car", "person", "face", "weather"]


def count(fmt: str, path: str) -> dict[str, object]:
    ds = dm.Dataset.import_from(path, fmt)
    types: collections.Counter[str] = collections.Counter()
    ids = set()
    total = 0
    for item in ds:
        for ann in item.annotations:
            types[ann.type.name] += 1
            ids.add((item.subset, item.id, ann.id))
            total += 1
    labels = ds.categories().get(dm.AnnotationType.label)
    return {
        "items": len(ds),
        "annotations": total,
        "distinct_ids": len(ids),
        "types": dict(types),
        "labels": [label.name for label in labels] if labels else [],
    }


def build() -> dm.Dataset:
    items = []
    for i in range(6):
        mask = np.zeros((48, 64), dtype=np.uint8)
        mask[10 + i : 20 + i, 5:15] = 1
        anns = [
            dm.Bbox(2 + i, 3, 10, 12, label=0, id=1, attributes={"occluded": False}),
            dm.Polygon([20, 5, 40, 5, 40, 25, 20, 25], label=1, id=2, attributes={"occluded": i == 2}),
            dm.Mask(image=mask, label=0, id=3, attributes={"occluded": False}),
        ]
        if i % 2 == 0:
            anns.append(dm.Label(3, id=4))
        items.append(
            dm.DatasetItem(
                id=f"img_{i}",
                subset="default",
                annotations=anns,
                media=dm.Image.from_numpy(np.zeros((48, 64, 3), dtype=np.uint8)),
                attributes={"frame": i},
            )
        )
    return dm.Dataset.from_iterable(
        items, categories={dm.AnnotationType.label: dm.LabelCategories.from_iterable(LABELS)}
    )


def write(fmt: str, path: str) -> dict[str, object]:
    ds = build()
    if fmt in ("coco_instances", "cvat"):
        # keep the Label annotations out of formats that have nowhere to put them
        ds = dm.Dataset.from_iterable(
            [item.wrap(annotations=[a for a in item.annotations if a.type.name != "label"]) for item in ds],
            categories=ds.categories(),
        )
    ds.export(path, fmt, save_media=False)
    types: collections.Counter[str] = collections.Counter(a.type.name for item in ds for a in item.annotations)
    return {"items": len(ds), "annotations": sum(types.values()), "types": dict(types)}


if __name__ == "__main__":
    action, fmt, path = sys.argv[1:4]
    result = count(fmt, path) if action == "count" else write(fmt, path)
    print(json.dumps(result))
