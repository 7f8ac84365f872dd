"""A deployed stack, named by STACK_NAME, and its signed-in test user."""

import os
from dataclasses import dataclass

STACK_NAME = os.environ.get("STACK_NAME", "")
TEST_ROLE_ARN = os.environ.get("TEST_ROLE_ARN", "")


@dataclass(frozen=True)
class Stack:
    outputs: dict[str, str]
    api_key: str

    def url(self, path: str) -> str:
        return self.outputs["ApiUrl"].rstrip("/") + path


@dataclass(frozen=True)
class SignedInUser:
    """A user of the stack's pool, signed in: their name, and the ID token to send as Authorization."""

    name: str
    token: str
