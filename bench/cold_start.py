"""Cold start of the API function next to the floor, each in fresh interpreters.

Floor: ``import boto3`` and the same three clients the function builds.
Handler: import the handler module and build its service (settings, clients, adapters).
Both also answer one request with the AWS calls faked, so the comparison includes the
first-request work (Powertools validation models, loading the language model and deciding the
language, the DynamoDB call). With the default hybrid detection the local model decides this
message, so the handler makes no Comprehend call and builds no Comprehend or Translate client
(they are made when a message first needs them); the floor still builds all three and calls
Comprehend, as the original demo does for every message.

Both run in ``.bench/lambda-env``, a virtual environment holding only what a function has on
Lambda, compiled to bytecode as there: the layer's pinned requirements, boto3 at the locked
version, and the project's code (development packages such as pyOpenSSL would slow the floor's
``import boto3`` and flatter the ratio). A third figure runs the handler with the layer's packages
left uncompiled, as a layer built without layers/shared/Makefile's compile step runs on Lambda.
The script creates both environments on first use.

Two reference programs show where the framework alone lands, with none of the project's code:
a Powertools REST resolver with Logger, Metrics and the language model answering the same
request (a DynamoDB put, faked), first without request validation, then with Powertools'
validation and one pydantic model for the body. The distance between them is what pydantic and
Powertools' validation cost on a cold start.

Run: .venv/bin/python bench/cold_start.py [runs]
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from devkit.runtime.language_model import model_path

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_ENV = ROOT / ".bench" / "lambda-env"
SOURCE_ONLY_ENV = ROOT / ".bench" / "lambda-env-source-only"
# What the layer ships besides our code; on Lambda, boto3 and botocore come compiled with the runtime.
LAYER_PACKAGES = (
    "fasttext",
    "pydantic",
    "pydantic_core",
    "aws_lambda_powertools",
    "annotated_types",
    "typing_inspection",
)

FLOOR = """
import time; start = time.perf_counter()
import boto3
from botocore.stub import Stubber
session = boto3.Session()
dynamodb = session.client("dynamodb")
comprehend = session.client("comprehend")
translate = session.client("translate")
with Stubber(comprehend) as c, Stubber(dynamodb) as d:
    c.add_response("detect_dominant_language", {"Languages": [{"LanguageCode": "en", "Score": 0.99}]})
    d.add_response("put_item", {})
    comprehend.detect_dominant_language(Text="Thanks for the help")
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "USER#a"}, "sk": {"S": "MSG#1"}})
print((time.perf_counter() - start) * 1000)
"""

# The first request every measured program answers: its Lambda context and API Gateway event.
FIRST_REQUEST = """
class Context:
    function_name = "bench"; function_version = "1"; memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"; aws_request_id = "r"
event = {"httpMethod": "POST", "path": "/messages", "resource": "/messages", "body": json.dumps(
    {"user": "alice", "message": "Thanks for the help"}), "isBase64Encoded": False, "headers": {},
    "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
    "pathParameters": None, "requestContext": {"requestId": "r", "stage": "v1",
    "authorizer": {"claims": {"cognito:username": "alice", "token_use": "id"}}}}
"""

HANDLER = (
    """
import time; start = time.perf_counter()
import json
from botocore.stub import Stubber
from store_reply_api.app import create_handler
from store_reply.adapters.clients import build_clients
from store_reply.settings import Settings
from store_reply.wiring import build_service
import os
clients = build_clients()
handler = create_handler(lambda: build_service(Settings.from_environ(os.environ), clients))
"""
    + FIRST_REQUEST
    + """
with Stubber(clients.dynamodb) as d:
    d.add_response("put_item", {})
    assert handler(event, Context())["statusCode"] == 201
assert not {"comprehend", "translate"} & clients.made, "the local model did not decide"
print((time.perf_counter() - start) * 1000)
"""
)


REFERENCE = (
    """
import time; start = time.perf_counter()
import json, os
import boto3
from botocore.stub import Stubber
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
import fasttext
VALIDATE = __VALIDATE__
if VALIDATE:
    from typing import Annotated
    from aws_lambda_powertools.event_handler.openapi.params import Body
    from pydantic import BaseModel, Field
    class MessageIn(BaseModel):
        user: str = Field(pattern="^[a-z]+$", max_length=64)
        message: str = Field(min_length=1, max_length=5000)
app = APIGatewayRestResolver(enable_validation=VALIDATE)
logger, metrics = Logger(), Metrics()
session = boto3.Session()
model = fasttext.load_model(os.environ["LANGUAGE_MODEL"])
def store(message: dict) -> dict:
    language = model.predict(message["message"])[0][0]
    dynamodb = session.client("dynamodb")
    with Stubber(dynamodb) as d:
        d.add_response("put_item", {})
        dynamodb.put_item(TableName="t", Item={"pk": {"S": "USER#a"}, "sk": {"S": "MSG#1"}})
    metrics.add_metric(name="MessagesStored", unit="Count", value=1)
    return {"language": language}
if VALIDATE:
    @app.post("/messages")
    def post(body: Annotated[MessageIn, Body()]):
        return store(body.model_dump()), 201
else:
    @app.post("/messages")
    def post():
        return store(app.current_event.json_body), 201
@metrics.log_metrics
@logger.inject_lambda_context
def handler(event, context):
    return app.resolve(event, context)
"""
    + FIRST_REQUEST
    + """
assert handler(event, Context())["statusCode"] == 201
print((time.perf_counter() - start) * 1000)
"""
)
BARE = REFERENCE.replace("__VALIDATE__", "False")
VALIDATED = REFERENCE.replace("__VALIDATE__", "True")


def lambda_python() -> Path:
    """The interpreter of the Lambda-like environment, built with uv when missing."""
    python = LAMBDA_ENV / "bin" / "python"
    if python.exists():
        return python
    uv = Path(sys.executable).parent / "uv"
    boto3_pin = re.search(r"^boto3==[\d.]+", (ROOT / "requirements/dev.txt").read_text(), re.MULTILINE)
    assert boto3_pin, "boto3 is not pinned in requirements/dev.txt"
    subprocess.run([uv, "venv", "--quiet", "--python", "3.13", LAMBDA_ENV], check=True)  # noqa: S603
    install: list[str | Path] = [uv, "pip", "install", "--quiet", "--python", python]
    # Compiled, as Lambda's runtime ships boto3 and layers/shared/Makefile ships the layer.
    compiled = [*install, "--compile-bytecode"]
    snapstart_pin = re.search(
        r"^snapshot-restore-py==[\d.]+", (ROOT / "requirements/dev.txt").read_text(), re.M
    )
    assert snapstart_pin, "snapshot-restore-py is not pinned in requirements/dev.txt"
    subprocess.run(  # noqa: S603 (the runtime ships snapshot_restore_py)
        [*compiled, "-r", ROOT / "layers/shared/requirements.txt", boto3_pin[0], snapstart_pin[0]], check=True
    )
    subprocess.run([*install, "--no-deps", "--editable", ROOT], check=True)  # noqa: S603
    subprocess.run(  # noqa: S603
        [python, "-m", "compileall", "-q", ROOT / "layers/shared/store_reply", ROOT / "functions/api"],
        check=True,
    )
    return python


def source_only_python() -> Path:
    """A copy of the Lambda-like environment whose layer packages carry no bytecode.

    It stands for a layer built without compiling: Lambda cannot write __pycache__ under /opt, so
    such a layer is compiled again on every cold start.
    """
    python = SOURCE_ONLY_ENV / "bin" / "python"
    if not python.exists():
        shutil.copytree(LAMBDA_ENV, SOURCE_ONLY_ENV, symlinks=True)
        (site,) = SOURCE_ONLY_ENV.glob("lib/python3.*/site-packages")
        for package in LAYER_PACKAGES:
            for cache in (site / package).rglob("__pycache__"):
                shutil.rmtree(cache)
        for cache in (site / "__pycache__").glob("typing_extensions*"):
            cache.unlink()
    return python


def measure(python: Path, code: str, *, write_bytecode: bool = True) -> float:
    environment = {
        **os.environ,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "TABLE_NAME": "bench",
        "REPLY_MESSAGE": "Thank you for your message!",
        "REPLY_LANGUAGE": "en",
        "POWERTOOLS_SERVICE_NAME": "bench",
        "POWERTOOLS_METRICS_NAMESPACE": "Bench",
        "LANGUAGE_MODEL": str(model_path()),
    }
    if not write_bytecode:
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
    result = subprocess.run(  # noqa: S603
        [python, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    )
    return float(result.stdout.strip().splitlines()[-1])


def main(runs: int) -> None:
    python = lambda_python()
    source_only = source_only_python()
    floor, handler, uncompiled, bare, validated = [], [], [], [], []
    for _ in range(runs):  # interleaved, so drift on the machine hits all alike
        floor.append(measure(python, FLOOR))
        handler.append(measure(python, HANDLER))
        uncompiled.append(measure(source_only, HANDLER, write_bytecode=False))
        bare.append(measure(python, BARE))
        validated.append(measure(python, VALIDATED))
    floor_ms = statistics.median(floor)
    print(f"cold start, median of {runs} fresh interpreters")
    print(f"  floor   (boto3 + 3 clients + 2 faked calls): {floor_ms:7.1f} ms")
    for name, samples in (
        ("handler (import + build + 1 faked request): ", handler),
        ("handler, layer without bytecode:            ", uncompiled),
        ("reference: Powertools, model, no validation:", bare),
        ("reference: the same, pydantic validation:   ", validated),
    ):
        milliseconds = statistics.median(samples)
        print(f"  {name} {milliseconds:7.1f} ms  {milliseconds / floor_ms:.2f}x")
    print("  target: <= 1.30x the floor")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
