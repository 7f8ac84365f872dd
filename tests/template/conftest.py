"""The template as CloudFormation receives it: expanded by aws-sam-translator, offline."""

from typing import Any

import pytest

from devkit.template import expand


@pytest.fixture(scope="session")
def expanded(template: dict[str, Any]) -> dict[str, Any]:
    return expand(template)
