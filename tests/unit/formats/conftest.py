from __future__ import annotations

from collections.abc import Callable

import pytest
from format_helpers import image_bytes, make_view

from cvat_serverless.domain.annotations import DatasetView


@pytest.fixture
def view() -> DatasetView:
    return make_view()


@pytest.fixture
def images() -> Callable[[int], bytes]:
    return image_bytes
