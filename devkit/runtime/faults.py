"""Failures a local execution environment injects on purpose, from ``DEVKIT_FAULTS``.

Around the real handler (errors, crashes, silence, latency) or at the ports the function's code
calls (the store, the language policy, the reply translator); the function's own code knows
nothing of them.
"""

import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


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


def install_port_faults(faults: Faults) -> None:
    """Install each port fault ``faults`` strikes with (a rate above 0)."""
    installers = {
        "degraded": _degrade_language_services,
        "nolocal": _silence_local_model,
        "lose": _lose_writes,
        "http5xx": _failing_writes,
        "wronglanguage": _take_for_the_reply_language,
        "wrongreply": _untranslated_replies,
    }
    for name, install in installers.items():
        fault: Fault = getattr(faults, name)
        if fault.rate > 0:
            install(fault)


def with_faults(handler: Callable[..., Any], faults: Faults) -> Callable[..., Any]:
    def faulty(event: Any, context: Any) -> Any:
        INVOCATION["event"] = event
        if faults.silent:
            return None
        if faults.errors.strikes(event):
            raise InjectedFault("DEVKIT_FAULTS: errors")
        return handler(event, context)

    return faulty
