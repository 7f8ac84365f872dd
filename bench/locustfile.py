"""Load for bench/local_api_load.py: the two write routes of the API, as many users would send.

``POST /messages`` is sent as the signed-in users whose ID tokens ``LOAD_TOKENS`` holds (a JSON
list, signed in by bench/local_api_load.py); ``GET /send`` is anonymous, as the local stack allows.
"""

import json
import os
import random

from locust import HttpUser, between, task

MESSAGES = [
    "Bonjour, merci pour votre aide",
    "Vielen Dank für die schnelle Antwort",
    "Thanks a lot for the quick answer",
    "Muchas gracias por todo",
    "ありがとうございます",
]


if "LOAD_TOKENS" not in os.environ:
    raise SystemExit("bench/locustfile.py: run it through bench/local_api_load.py, which signs the users in")
TOKENS: list[str] = json.loads(os.environ["LOAD_TOKENS"])  # ID tokens last an hour


class Sender(HttpUser):
    wait_time = between(0.01, 0.05)

    @task
    def send(self) -> None:
        user = f"load-{random.randrange(1000)}"
        self.client.get("/send", params={"user": user, "message": random.choice(MESSAGES)}, name="GET /send")

    @task
    def post_message(self) -> None:
        headers = {"Authorization": random.choice(TOKENS)}
        body = {"message": random.choice(MESSAGES)}
        self.client.post("/messages", json=body, headers=headers, name="POST /messages")
