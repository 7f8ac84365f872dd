"""The local stack, started as ``make start`` starts it, on free ports with its own data folder."""

from collections.abc import Iterator

import pytest

from tests.support.local_stack import RunningStack, start_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("local-data"))
    yield running
    running.stop()
