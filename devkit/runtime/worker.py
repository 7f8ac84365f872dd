"""One function's execution environment: a process with the function's own environment variables.

Started by ``functions.FunctionRunner`` as ``python -m devkit.runtime.worker FD HANDLER``, FD being its
end of a socket pair to the local stack; imports the handler
once (its cold start), then runs one invocation at a time, as a Lambda execution environment does.
What the handler prints is echoed and also returned with the result, so the stack can read its
EMF metrics as CloudWatch Logs would. ``DEVKIT_FAULTS`` (see ``Faults``) makes this environment
fail on purpose, around the real handler: the function's own code knows nothing of it.
"""

import importlib
import io
import json
import os
import random
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any


@dataclass
class ClientContext:
    """The client context an invoker passed (Lambda's ``context.client_context``)."""

    custom: dict[str, Any] = field(default_factory=dict)
    env: dict[str, Any] = field(default_factory=dict)
    client: Any = None


@dataclass(frozen=True)
class Fault:
    """One fault: how often it strikes, and on which events (those containing ``marker``; all if empty)."""

    rate: float = 0.0
    marker: str = ""

    def strikes(self, event: Any) -> bool:
        if self.rate <= 0 or (self.marker and self.marker not in json.dumps(event)):
            return False
        return random.random() < self.rate  # noqa: S311 (fault injection, not secrecy)


@dataclass(frozen=True)
class Faults:
    """Failures this environment injects, from ``DEVKIT_FAULTS``: comma-separated items.

    - ``errors=R``: the invocation raises, with probability R;
    - ``http5xx=R``: an API message's write fails (the store port raises ``StorageUnavailable``)
      with probability R, and the API answers 503 through its own error table;
    - ``crash``: the handler fails to import (every invocation fails to start);
    - ``silent``: the handler is not run at all (a traffic hook that never reports);
    - ``latency=MS``: every invocation reports MS more of ``Duration`` (added to the measured time,
      not slept, so a compressed clock stays compressed);
    - ``degraded=R``: the language service fails with probability R (the reply degrades);
    - ``nolocal=R``: the local language model decides nothing, with probability R, as a model that
      failed to load or a confidence threshold of 1 would (the text goes to the language service,
      or stays undetermined).

    Faults that answer as if all went well, injected at the ports (the store, the language policy,
    the reply translator), which the hooks' golden set and the outcome alarms must catch; each
    message is struck at the rate, and ``@TEXT`` limits them to invocations whose event contains
    TEXT (``@rehearsal``: the rehearsal's users, not the hooks' check user):

    - ``lose=R``: a message is answered as stored but not written, with probability R (the API's
      single write and the consumer's batches alike);
    - ``wronglanguage=R``: a message is taken for the reply's own language (``REPLY_LANGUAGE``),
      decided as confidently as the right language was;
    - ``wrongreply=R``: a reply said to be translated is the configured text, untranslated.

    ``R@TEXT`` limits a fault to events containing TEXT.
    """

    errors: Fault = Fault()
    http5xx: Fault = Fault()
    crash: bool = False
    silent: bool = False
    latency: float = 0.0
    degraded: Fault = Fault()
    nolocal: Fault = Fault()
    lose: Fault = Fault()
    wronglanguage: Fault = Fault()
    wrongreply: Fault = Fault()

    @classmethod
    def parse(cls, text: str) -> "Faults":
        values: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, _, value = item.partition("=")
            if name in {"crash", "silent"}:
                values[name] = True
            elif name == "latency":
                values["latency"] = float(value.removeprefix("+").removesuffix("ms"))
            elif name in {"errors", "http5xx", "degraded", "nolocal", "lose", "wronglanguage", "wrongreply"}:
                rate, _, marker = value.partition("@")
                values[name] = Fault(float(rate), marker)
            else:
                raise ValueError(f"DEVKIT_FAULTS: unknown fault {name!r}")
        return cls(**values)


# The invocation being run: the port faults match their marker against its event.
INVOCATION: dict[str, Any] = {}


def _strikes_this_invocation(fault: Fault) -> bool:
    return fault.strikes(INVOCATION.get("event"))


class InjectedFault(Exception):
    """A failure DEVKIT_FAULTS asked for."""


class _Tee(io.TextIOBase):
    """Writes through to the real stream and keeps the lines of the current invocation."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.lines: list[str] = []
        self._partial = ""

    def write(self, text: str) -> int:
        self._stream.write(text)
        self._partial += text
        *complete, self._partial = self._partial.split("\n")
        self.lines += complete
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def take(self) -> list[str]:
        lines, self.lines = [*self.lines, *([self._partial] if self._partial else [])], []
        self._partial = ""
        return lines


def _degrade_language_services(fault: Fault) -> None:
    """Leave languages undetermined and degraded, as Comprehend failing would, at the fault's rate."""
    from store_reply.detection import LanguageDecision, LanguagePolicy  # noqa: PLC0415
    from store_reply.models import UNDETERMINED_LANGUAGE, DecidedBy  # noqa: PLC0415

    failed = LanguageDecision(UNDETERMINED_LANGUAGE, DecidedBy.UNDETERMINED, degraded=True)
    decide, decide_all = LanguagePolicy.decide, LanguagePolicy.decide_all

    def failing_decide(self: LanguagePolicy, text: str) -> LanguageDecision:
        return failed if fault.strikes(text) else decide(self, text)

    def failing_decide_all(self: LanguagePolicy, texts: Any) -> list[LanguageDecision]:
        return [
            failed if fault.strikes(text) else value
            for text, value in zip(texts, decide_all(self, texts), strict=True)
        ]

    LanguagePolicy.decide = failing_decide  # type: ignore[method-assign]
    LanguagePolicy.decide_all = failing_decide_all  # type: ignore[method-assign]


def _silence_local_model(fault: Fault) -> None:
    """Let the local model decide nothing, at the fault's rate; the rest of the policy is unchanged."""
    from store_reply.detection import LanguageDecision, LanguagePolicy  # noqa: PLC0415

    locally = LanguagePolicy._locally  # noqa: SLF001 (the one step this fault replaces)

    def undecided(self: LanguagePolicy, text: str) -> LanguageDecision | None:
        return None if fault.strikes(text) else locally(self, text)

    LanguagePolicy._locally = undecided  # type: ignore[method-assign]  # noqa: SLF001


def _lose_writes(fault: Fault) -> None:
    """The message store answers as if it wrote what it drops, at the fault's rate."""
    from store_reply.adapters.dynamodb import DynamoMessageStore  # noqa: PLC0415
    from store_reply.models import StoredMessage  # noqa: PLC0415

    save, save_all = DynamoMessageStore.save, DynamoMessageStore.save_all

    def lost(_: StoredMessage) -> bool:
        return _strikes_this_invocation(fault)

    def losing_save(self: DynamoMessageStore, message: StoredMessage) -> bool:
        return True if lost(message) else save(self, message)

    def losing_save_all(self: DynamoMessageStore, messages: Any) -> set[str]:
        return save_all(self, [message for message in messages if not lost(message)])

    DynamoMessageStore.save = losing_save  # type: ignore[method-assign]
    DynamoMessageStore.save_all = losing_save_all  # type: ignore[method-assign]


def _failing_writes(fault: Fault) -> None:
    """The message store's single write (the API's) fails, at the fault's rate."""
    from store_reply.adapters.dynamodb import DynamoMessageStore  # noqa: PLC0415
    from store_reply.errors import StorageUnavailable  # noqa: PLC0415
    from store_reply.models import StoredMessage  # noqa: PLC0415

    save = DynamoMessageStore.save

    def failing_save(self: DynamoMessageStore, message: StoredMessage) -> bool:
        if _strikes_this_invocation(fault):
            raise StorageUnavailable("DEVKIT_FAULTS: http5xx")
        return save(self, message)

    DynamoMessageStore.save = failing_save  # type: ignore[method-assign]


def _take_for_the_reply_language(fault: Fault) -> None:
    """The language policy decides the reply's own language, as confidently, at the fault's rate."""
    from store_reply.detection import LanguageDecision, LanguagePolicy  # noqa: PLC0415

    reply_language = os.environ.get("REPLY_LANGUAGE", "en")
    decide, decide_all = LanguagePolicy.decide, LanguagePolicy.decide_all

    def wrong(_: str, decision: LanguageDecision) -> LanguageDecision:
        if not _strikes_this_invocation(fault):
            return decision
        return LanguageDecision(reply_language, decision.decided_by, decision.degraded)

    def wrong_decide(self: LanguagePolicy, text: str) -> LanguageDecision:
        return wrong(text, decide(self, text))

    def wrong_decide_all(self: LanguagePolicy, texts: Any) -> list[LanguageDecision]:
        return [wrong(t, d) for t, d in zip(texts, decide_all(self, texts), strict=True)]

    LanguagePolicy.decide = wrong_decide  # type: ignore[method-assign]
    LanguagePolicy.decide_all = wrong_decide_all  # type: ignore[method-assign]


def _untranslated_replies(fault: Fault) -> None:
    """A reply said to be translated is the configured text, at the fault's rate (by language)."""
    from store_reply.models import Reply  # noqa: PLC0415
    from store_reply.replies import ReplyTranslator  # noqa: PLC0415

    text = os.environ.get("REPLY_MESSAGE", "")
    reply_in = ReplyTranslator.reply_in

    def wrong_reply_in(self: ReplyTranslator, language: str) -> Reply:
        reply = reply_in(self, language)
        if reply.translated and _strikes_this_invocation(fault):
            return Reply(text=text, language=language, translated=True, degraded=False)
        return reply

    ReplyTranslator.reply_in = wrong_reply_in  # type: ignore[method-assign]


def _install_port_faults(faults: Faults) -> None:
    if faults.degraded.rate > 0:
        _degrade_language_services(faults.degraded)
    if faults.nolocal.rate > 0:
        _silence_local_model(faults.nolocal)
    if faults.lose.rate > 0:
        _lose_writes(faults.lose)
    if faults.http5xx.rate > 0:
        _failing_writes(faults.http5xx)
    if faults.wronglanguage.rate > 0:
        _take_for_the_reply_language(faults.wronglanguage)
    if faults.wrongreply.rate > 0:
        _untranslated_replies(faults.wrongreply)


def _with_faults(handler: Callable[..., Any], faults: Faults) -> Callable[..., Any]:
    def faulty(event: Any, context: Any) -> Any:
        INVOCATION["event"] = event
        if faults.silent:
            return None
        if faults.errors.strikes(event):
            raise InjectedFault("DEVKIT_FAULTS: errors")
        return handler(event, context)

    return faulty


@dataclass
class Context:
    """The Lambda context object, as much of it as handlers read."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float
    client_context: ClientContext | None = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def _openapi(module: Any, options: dict[str, Any]) -> str:
    """The document the function's package generates (``<package>.openapi.openapi_document``)."""
    generator = importlib.import_module(f"{module.__package__}.openapi")
    return json.dumps(generator.openapi_document(server_url=options["url"], version=options["version"]))


def main() -> None:
    descriptor, handler_path = int(sys.argv[1]), sys.argv[2]
    connection = Connection(descriptor)
    module_name, _, attribute = handler_path.rpartition(".")
    try:
        faults = Faults.parse(os.environ.get("DEVKIT_FAULTS", ""))
        if faults.crash:
            raise InjectedFault("DEVKIT_FAULTS: crash at import")
        module = importlib.import_module(module_name)
        handler = _with_faults(getattr(module, attribute), faults)
        _install_port_faults(faults)
    except Exception:  # noqa: BLE001 (reported to the caller, who shows it)
        connection.send({"ready": False, "error": traceback.format_exc()})
        return
    if seed := os.environ.get("DEVKIT_SEED"):  # reproducible faults, per function and version
        random.seed(
            f"{seed}/{os.environ['AWS_LAMBDA_FUNCTION_NAME']}/{os.environ['AWS_LAMBDA_FUNCTION_VERSION']}"
        )
    connection.send({"ready": True})
    output = _Tee(sys.stdout)
    sys.stdout = output
    name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    while True:
        try:
            request = connection.recv()
        except EOFError:
            return
        if "openapi" in request:
            try:
                connection.send({"result": _openapi(module, request["openapi"])})
            except Exception:  # noqa: BLE001 (reported to the caller)
                connection.send({"error": traceback.format_exc()})
            continue
        qualifier = request.get("qualifier")
        invoked = request["function_arn"]
        context = Context(
            function_name=name,
            function_version=os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
            invoked_function_arn=f"{invoked}:{qualifier}" if qualifier else invoked,
            memory_limit_in_mb=int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]),
            aws_request_id=request.get("request_id") or str(uuid.uuid4()),
            log_group_name=f"/aws/lambda/{name}",
            log_stream_name="local",
            deadline=time.monotonic() + request["timeout"],
            client_context=ClientContext(**request["client_context"])
            if request.get("client_context")
            else None,
        )
        output.take()
        started = time.monotonic()
        try:
            result = handler(request["event"], context)
        except Exception:  # noqa: BLE001 (a handler error is the invocation's result, as on Lambda)
            traceback.print_exc()
            sys.stdout.flush()
            ran_ms = (time.monotonic() - started) * 1000
            connection.send({"error": traceback.format_exc(), "logs": output.take(), "ran_ms": ran_ms})
            continue
        ran_ms = (time.monotonic() - started) * 1000
        sys.stdout.flush()
        reply = {"result": result, "logs": output.take(), "ran_ms": ran_ms, "extra_ms": faults.latency}
        connection.send(reply)


if __name__ == "__main__":
    main()
