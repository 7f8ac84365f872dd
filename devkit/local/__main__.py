"""``python -m devkit.local start|reset|send|alarms|token``: what the make targets of the same names run."""

import argparse
import json
import logging
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

from devkit.aws.clock import Clock
from devkit.aws.cloudwatch.alarms import UnsupportedAlarm
from devkit.aws.cognito.users import LOCAL_PASSWORD
from devkit.local.client import LocalClient
from devkit.local.options import LocalOptions, PortInUse
from devkit.local.stack import LocalStack
from devkit.runtime.functions import InvocationFailed
from devkit.template import TEMPLATE

DEFAULTS = LocalOptions()


def banner(stack: LocalStack, seconds: float) -> str:
    """What the developer needs to use the running stack."""
    options = stack.options
    queue = stack.queue_urls.get("MessagesQueue", next(iter(stack.queue_urls.values()), ""))
    dead_letters = stack.queue_urls.get("MessagesDeadLetterQueue", "")
    api = options.api_url
    # make token and make send reach the endpoint on AWS_PORT (3001 unless the stack was told otherwise)
    port = f" AWS_PORT={options.aws_port}" if options.aws_port != DEFAULTS.aws_port else ""
    lines = [
        f"Store & Reply is running locally (started in {seconds:.1f} s). Press Ctrl-C to stop.",
        "",
        f"  API            {api}",
        f"                 curl -s '{api}/send?user=alice&message=Vielen%20Dank%20f%C3%BCr%20die%20Hilfe'"
        "   (anonymous)",
        f"  Sign in        TOKEN=$(make -s token AS=alice{port})   (signs alice up first; password "
        f"{LOCAL_PASSWORD})",
        f'                 curl -s -X POST {api}/messages -H "Authorization: $TOKEN" \\',
        "                   -H 'Content-Type: application/json' \\",
        """                   -d '{"message": "Bonjour, merci pour votre aide"}'""",
        f'                 curl -s {api}/messages/me -H "Authorization: $TOKEN" \\',
        f"                   -H 'x-api-key: {stack.api_key}'",
        f"  API key        {stack.api_key}",
        f"  OpenAPI        {api}/openapi.json    Swagger UI  {api}/docs",
        f"  AWS endpoint   {options.aws_endpoint}  (any credentials, region {options.region})",
        f"  Table          {', '.join(stack.table_names.values())}",
        f"  Queue          {queue}",
        f"  Dead letters   {dead_letters}",
        "  Send to the queue:",
        f"""                 make send{port} MESSAGE='{{"user": "alice", "message": "Gracias"}}'""",
        "                 AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x .venv/bin/aws \\",
        f"                   --region {options.region} --endpoint-url {options.aws_endpoint} \\",
        f"                   sqs send-message --queue-url {queue} --message-body '...'",
        f"  Data           {options.data_dir} (kept across restarts; make reset clears it)",
        "  Code           edits under functions/ and layers/ apply on the next request or batch",
        "",
    ]
    return "\n".join(lines)


def start(options: LocalOptions) -> int:
    """Run the stack until Ctrl-C (or SIGTERM)."""
    started = time.monotonic()
    stack = LocalStack(options)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stack.start()
    except PortInUse as error:
        print(f"make start: {error}; choose another with PORT=... or AWS_PORT=...", file=sys.stderr)
        stack.stop()
        return 1
    except InvocationFailed as error:
        print(f"make start: a function could not start: {error}", file=sys.stderr)
        stack.stop()
        return 1
    except UnsupportedAlarm as error:
        print(
            f"make start: the local evaluator cannot evaluate an alarm faithfully: {error}", file=sys.stderr
        )
        stack.stop()
        return 1
    except BaseException:
        stack.stop()
        raise
    print(banner(stack, time.monotonic() - started), flush=True)
    stop.wait()
    print("Stopping...", flush=True)
    stack.stop()
    print("Stopped; local data saved.", flush=True)
    return 0


def reset(data_dir: Path) -> int:
    """Delete the local data (items, queue messages, API key)."""
    if data_dir.exists():
        shutil.rmtree(data_dir)
    print(f"Cleared {data_dir}")
    return 0


def send(options: LocalOptions, body: str) -> int:
    """Send one message to the running stack's queue."""
    users = LocalClient.of(options)
    url = users.queue_url()
    print(json.dumps({"queue": url, "messageId": users.send_to_queue(body, url)}))
    return 0


def token(options: LocalOptions, user: str, password: str) -> int:
    """Print an ID token for ``user`` from the running stack's user pool (signed up first if needed)."""
    try:
        print(LocalClient.of(options).id_token(user, password))
    except Exception as error:  # noqa: BLE001 (the usual cause: nothing runs there)
        print(f"make token: {error} (is the stack running on {options.aws_endpoint}?)", file=sys.stderr)
        return 2
    return 0


def alarms(options: LocalOptions) -> int:
    """Every alarm of the running stack: its state, since when, and the datapoints that decided it."""
    stack = LocalStack(options)
    try:
        described = stack.client("cloudwatch").describe_alarms()["MetricAlarms"]
    except Exception as error:  # noqa: BLE001 (the usual cause: nothing runs there)
        print(f"make alarms: no local stack answers on {options.aws_endpoint} ({error})", file=sys.stderr)
        return 2
    prefix = f"{options.stack_name}-"
    colours = {"ALARM": "\033[31m", "OK": "\033[32m"} if sys.stdout.isatty() else {}
    for alarm in sorted(described, key=lambda a: (a["StateValue"] != "ALARM", a["AlarmName"])):
        data = json.loads(alarm.get("StateReasonData") or "{}")
        points = [f"{p['value']:g}" for p in data.get("evaluatedDatapoints", [])]
        state = alarm["StateValue"]
        print(
            f"{colours.get(state, '')}{state:<17}\033[0m" if colours else f"{state:<17}",
            alarm["AlarmName"].removeprefix(prefix),
            f"since {alarm['StateUpdatedTimestamp']:%H:%M:%S}",
            f"datapoints [{', '.join(points)}]" if points else "no datapoints",
            sep="  ",
        )
        if state == "ALARM":
            print(f"{'':<19}{alarm.get('StateReason', '')}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devkit.local", description=__doc__)
    parser.add_argument("command", choices=["start", "reset", "send", "alarms", "token"])
    parser.add_argument("message", nargs="?", help="send: the message body; token: the user")
    parser.add_argument("--password", default=LOCAL_PASSWORD, help="token: the user's password")
    parser.add_argument("--host", default=DEFAULTS.host)
    parser.add_argument("--port", type=int, default=DEFAULTS.api_port, help="the API's port")
    parser.add_argument("--aws-port", type=int, default=DEFAULTS.aws_port, help="the AWS endpoint's port")
    parser.add_argument("--data-dir", type=Path, default=DEFAULTS.data_dir)
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="simulated seconds per real second (metrics and alarms)"
    )
    parser.add_argument(
        "--faults",
        action="append",
        default=[],
        metavar="FUNCTION=FAULTS",
        help="inject faults into a function's live version, e.g. ApiFunction=errors=0.1 (DEVKIT_FAULTS)",
    )
    arguments = parser.parse_intermixed_args(argv)
    options = LocalOptions(
        host=arguments.host,
        api_port=arguments.port,
        aws_port=arguments.aws_port,
        data_dir=arguments.data_dir.resolve(),
        template=arguments.template.resolve(),
        parameters=dict(parameter.split("=", 1) for parameter in arguments.parameter),
        clock=Clock(speed=arguments.speed),
        faults=dict(fault.split("=", 1) for fault in arguments.faults),
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("werkzeug", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if arguments.command == "start":
        return start(options)
    if arguments.command == "reset":
        return reset(options.data_dir)
    if arguments.command == "alarms":
        return alarms(options)
    if arguments.message is None:
        parser.error(f"{arguments.command} needs its argument: the message body, or the user")
    if arguments.command == "token":
        return token(options, arguments.message, arguments.password)
    return send(options, arguments.message)


if __name__ == "__main__":
    sys.exit(main())
