"""The traffic hook handler, shared by the pre- and post-traffic hooks of every guarded function.

Before traffic, ``TARGET_FUNCTION`` is the new version's ARN; after, the live alias's, with
``ALARM_NAMES`` and ``API_URL_PARAMETER`` (the SSM parameter holding the API's URL) set so the hook
also checks the alarms and the real endpoint.
"""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from pydantic import BaseModel, ConfigDict, Field

from store_reply.ports import Translator
from store_reply_hooks.aws import (
    AlarmWatch,
    CheckDataCleaner,
    CheckDataReader,
    CheckIdentity,
    CheckMessageSender,
    CodeDeployReporter,
    LambdaInvoker,
)
from store_reply_hooks.checks import checks_for
from store_reply_hooks.golden import ExpectedReplies, load_golden
from store_reply_hooks.hook import TrafficHook
from store_reply_hooks.outcomes import Golden, GoldenEndpoint, GoldenInvocations, GoldenQueue

logger = Logger()

# An invocation may include the new version's cold start; the hook's own timeout is longer. The
# worst case of each (timeouts x attempts) is what the hook budgets for (store_reply_hooks.hook).
INVOKE = Config(connect_timeout=2, read_timeout=30, retries={"mode": "standard", "total_max_attempts": 2})
CONTROL = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 3})
# The reporter retries by itself (store_reply_hooks.aws.REPORT_ATTEMPTS): one attempt a call.
REPORT = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 1})


class HookSettings(BaseModel):
    """A hook's configuration, from its environment."""

    model_config = ConfigDict(frozen=True)

    target_function: str = Field(pattern=r"^arn:aws[a-z-]*:lambda:", alias="TARGET_FUNCTION")
    checks: Literal["api", "queue"] = Field(alias="CHECKS")
    table_name: str = Field(min_length=3, alias="TABLE_NAME")
    events_dir: Path = Field(default=Path("/opt"), alias="TEST_EVENTS_DIR")
    max_duration_ms: int = Field(default=5_000, gt=0, alias="MAX_DURATION_MS")
    api_url_parameter: str | None = Field(default=None, alias="API_URL_PARAMETER")
    user_pool_id: str | None = Field(default=None, alias="USER_POOL_ID")
    check_client_id: str | None = Field(default=None, alias="CHECK_CLIENT_ID")
    anonymous_send: bool = Field(default=False, alias="ANONYMOUS_SEND")
    alarm_names: str = Field(default="", alias="ALARM_NAMES")
    # The golden set: straight to the new version (before traffic) or through the real entry
    # points (after: the API, or the queue at QUEUE_URL).
    golden_set: Literal["direct", "entry"] | None = Field(default=None, alias="GOLDEN_SET")
    queue_url: str | None = Field(default=None, pattern=r"^https?://", alias="QUEUE_URL")
    reply_message: str = Field(default="Thank you for your message!", min_length=1, alias="REPLY_MESSAGE")
    reply_language: str = Field(default="en", alias="REPLY_LANGUAGE")
    language_services: Literal["aws", "offline"] = Field(default="aws", alias="LANGUAGE_SERVICES")


def _translator(settings: HookSettings, session: boto3.Session) -> Translator:
    """The translation service itself (Translate, or the local stack's catalogue), never the cache."""
    if settings.language_services == "offline":
        from store_reply.adapters.offline import CatalogueTranslator  # noqa: PLC0415 (never on Lambda)

        return CatalogueTranslator()
    from store_reply.adapters.language import AmazonTranslator  # noqa: PLC0415

    return AmazonTranslator(session.client("translate", config=CONTROL))


def build_hook(settings: HookSettings, session: boto3.Session | None = None) -> TrafficHook:
    """The hook, with clients for the target's account and region."""
    session = session or boto3.Session()
    alarm_names = [name for name in settings.alarm_names.split(",") if name]
    dynamodb = session.client("dynamodb", config=CONTROL)
    golden = Golden(
        load_golden(settings.events_dir),
        ExpectedReplies(settings.reply_message, settings.reply_language, _translator(settings, session)),
        CheckDataReader(dynamodb, settings.table_name),
    )
    direct = endpoint = queue = None
    if settings.golden_set == "direct":
        direct = GoldenInvocations(settings.checks, golden, settings.events_dir)
    elif settings.golden_set == "entry" and settings.checks == "queue":
        if not settings.queue_url:
            raise ValueError("GOLDEN_SET=entry for the queue needs QUEUE_URL")
        queue = GoldenQueue(
            CheckMessageSender(session.client("sqs", config=CONTROL), settings.queue_url), golden
        )
    elif settings.golden_set == "entry":
        if not (settings.api_url_parameter and settings.user_pool_id and settings.check_client_id):
            raise ValueError(
                "GOLDEN_SET=entry for the API needs API_URL_PARAMETER, USER_POOL_ID and CHECK_CLIENT_ID"
            )
        ssm = session.client("ssm", config=CONTROL)
        identity = CheckIdentity(
            session.client("cognito-idp", config=CONTROL), settings.user_pool_id, settings.check_client_id
        )
        endpoint = GoldenEndpoint(
            ssm.get_parameter(Name=settings.api_url_parameter)["Parameter"]["Value"], identity, golden
        )
    return TrafficHook(
        checks=checks_for(settings.checks, anonymous_send=settings.anonymous_send),
        events_dir=settings.events_dir,
        invoker=LambdaInvoker(session.client("lambda", config=INVOKE), settings.target_function),
        cleaner=CheckDataCleaner(dynamodb, settings.table_name),
        reporter=CodeDeployReporter(session.client("codedeploy", config=REPORT)),
        max_milliseconds=settings.max_duration_ms,
        alarms=AlarmWatch(session.client("cloudwatch", config=CONTROL), alarm_names) if alarm_names else None,
        golden=direct,
        endpoint=endpoint,
        queue=queue,
    )


def create_handler(
    build: Callable[[], TrafficHook], fallback_reporter: Callable[[], CodeDeployReporter]
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """A handler that runs the hook; if the hook cannot even be built, it still reports ``Failed``."""

    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        deployment_id, execution_id = event["DeploymentId"], event["LifecycleEventHookExecutionId"]
        logger.append_keys(deployment_id=deployment_id)
        try:
            hook = build()
        except Exception as error:
            logger.exception("The hook could not start; reporting Failed")
            fallback_reporter().report(deployment_id, execution_id, "Failed")
            return {"status": "Failed", "problems": [f"the hook could not start: {error}"]}
        verdict = hook.run(deployment_id, execution_id, context.get_remaining_time_in_millis)
        return {"status": verdict.status, "problems": verdict.problems}

    return handler


lambda_handler = create_handler(
    lambda: build_hook(HookSettings.model_validate(dict(os.environ))),
    lambda: CodeDeployReporter(boto3.client("codedeploy", config=REPORT)),
)
