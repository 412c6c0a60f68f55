from __future__ import annotations

import pytest
from annotation_helpers import make_labels

from cvat_serverless.domain.annotations import LabelSpec


@pytest.fixture
def labels() -> list[LabelSpec]:
    return make_labels()
