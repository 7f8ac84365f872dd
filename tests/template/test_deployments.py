"""How a new version reaches users: canary per environment, hooks, rollback alarms, notifications."""

import fnmatch
import json
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest

from devkit.template import ROOT, expand, load_template, resources_of_type
from devkit.template.intrinsics import Resolver
from store_reply.adapters.dynamodb import user_partition
from store_reply.deployment_checks import check_user
from store_reply_hooks.hook import CONTROL_CALL_MS, INVOKE_MS, REPORT_MS

GUARDED = {
    "ApiFunction": {
        "alarms": {
            "ApiErrorsAlarm",
            "ApiThrottlesAlarm",
            "ApiDurationAlarm",
            "ApiDegradedAlarm",
            "ApiLocalLanguageAlarm",
            "ApiTranslatedRepliesAlarm",
            "ApiPersistenceAlarm",
        },
        "hooks": ("ApiPreTrafficHook", "ApiPostTrafficHook"),
    },
    "QueueConsumerFunction": {
        "alarms": {
            "ConsumerErrorsAlarm",
            "ConsumerThrottlesAlarm",
            "ConsumerDurationAlarm",
            "ConsumerDegradedAlarm",
            "ConsumerFailedRecordsAlarm",
            "ConsumerDeadLetteredAlarm",
            "ConsumerRejectionRateAlarm",
            "ConsumerLocalLanguageAlarm",
            "ConsumerTranslatedRepliesAlarm",
            "ConsumerPersistenceAlarm",
        },
        "hooks": ("ConsumerPreTrafficHook", "ConsumerPostTrafficHook"),
    },
}
CONFIG_BY_ENVIRONMENT = {
    "dev": "CodeDeployDefault.LambdaAllAtOnce",
    "staging": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
    "prod": "CodeDeployDefault.LambdaCanary10Percent10Minutes",
}


@pytest.fixture(scope="module", params=sorted(CONFIG_BY_ENVIRONMENT))
def environment(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def deployed(template: dict[str, Any], environment: str) -> dict[str, Any]:
    return expand(template, {"Environment": environment})


def group_of(expanded: dict[str, Any], function: str) -> dict[str, Any]:
    properties: dict[str, Any] = expanded["Resources"][f"{function}DeploymentGroup"]["Properties"]
    return properties


@pytest.mark.parametrize("function", sorted(GUARDED))
def test_each_guarded_function_has_a_deployment_group_with_its_environments_config(
    deployed: dict[str, Any], environment: str, function: str
) -> None:
    group = group_of(deployed, function)

    assert group["DeploymentConfigName"] == CONFIG_BY_ENVIRONMENT[environment]
    assert group["DeploymentStyle"] == {
        "DeploymentType": "BLUE_GREEN",
        "DeploymentOption": "WITH_TRAFFIC_CONTROL",
    }


@pytest.mark.parametrize("function", sorted(GUARDED))
def test_the_alarms_stop_and_roll_back_the_deployment(deployed: dict[str, Any], function: str) -> None:
    group = group_of(deployed, function)

    assert group["AlarmConfiguration"]["Enabled"] is True
    assert {alarm["Name"]["Ref"] for alarm in group["AlarmConfiguration"]["Alarms"]} == GUARDED[function][
        "alarms"
    ]
    assert group["AutoRollbackConfiguration"]["Enabled"] is True
    assert {"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"} <= set(
        group["AutoRollbackConfiguration"]["Events"]
    )


@pytest.mark.parametrize("function", sorted(GUARDED))
def test_a_group_has_at_most_the_ten_alarms_codedeploy_accepts(
    deployed: dict[str, Any], function: str
) -> None:
    # CodeDeploy's AlarmConfiguration: "A maximum of 10 alarms can be added"; more is
    # AlarmsLimitExceededException, and the stack update fails.
    assert len(group_of(deployed, function)["AlarmConfiguration"]["Alarms"]) <= 10


@pytest.mark.parametrize("function", sorted(GUARDED))
def test_deployment_events_go_to_the_alerts_topic(deployed: dict[str, Any], function: str) -> None:
    (trigger,) = group_of(deployed, function)["TriggerConfigurations"]

    assert trigger["TriggerTargetArn"] == {"Ref": "DeploymentAlertsTopic"}
    assert set(trigger["TriggerEvents"]) == {
        "DeploymentStart",
        "DeploymentSuccess",
        "DeploymentFailure",
        "DeploymentRollback",
    }


@pytest.mark.parametrize("function", sorted(GUARDED))
def test_the_live_alias_shifts_traffic_through_both_hooks(deployed: dict[str, Any], function: str) -> None:
    alias = deployed["Resources"][f"{function}Aliaslive"]
    update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    pre, post = GUARDED[function]["hooks"]

    assert update["DeploymentGroupName"] == {"Ref": f"{function}DeploymentGroup"}
    assert update["BeforeAllowTrafficHook"] == {"Ref": pre}
    assert update["AfterAllowTrafficHook"] == {"Ref": post}


def test_hooks_have_no_deployment_of_their_own(expanded: dict[str, Any]) -> None:
    groups = set(resources_of_type(expanded, "AWS::CodeDeploy::DeploymentGroup"))

    assert groups == {f"{function}DeploymentGroup" for function in GUARDED}


def test_every_property_change_publishes_a_version(template: dict[str, Any]) -> None:
    for function in GUARDED:
        properties = template["Resources"][function]["Properties"]
        assert properties["AutoPublishAlias"] == "live"
        assert properties["AutoPublishAliasAllProperties"] is True


def hook_name(template: dict[str, Any], hook: str, stack_name: str) -> str:
    """The hook's name as CloudFormation makes it for a stack called ``stack_name``."""
    resolver = Resolver(
        parameters={},
        resources={},
        conditions={},
        region="eu-central-1",
        stack_name=stack_name,
        stack_uuid="1b2c3d4e-aaaa-4bbb-8ccc-0123456789ab",
    )
    return str(resolver.resolve(template["Resources"][hook]["Properties"]["FunctionName"]))


def longest_stack_name() -> str:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    names = [
        str(env["global"]["parameters"]["stack_name"]) for env in config.values() if isinstance(env, dict)
    ]
    return max(names, key=len)


@pytest.mark.parametrize("hook", [hook for function in GUARDED.values() for hook in function["hooks"]])
def test_hook_names_are_valid_for_codedeploy_and_lambda_whatever_the_stack_name(
    template: dict[str, Any], hook: str
) -> None:
    for stack_name in (longest_stack_name(), "s" * 128):  # 128: the longest name CloudFormation allows
        name = hook_name(template, hook, stack_name)
        assert name.startswith("CodeDeployHook_1b2c3d4e")
        assert len(name) <= 64
        assert re.fullmatch(r"[A-Za-z0-9_-]+", name)
    assert template["Resources"][hook]["Properties"]["DeploymentPreference"] == {"Enabled": False}


def hook_statements(expanded: dict[str, Any], hook: str) -> dict[str, dict[str, Any]]:
    role = expanded["Resources"][f"{hook}Role"]["Properties"]
    return {s["Sid"]: s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]}


@pytest.mark.parametrize("function", sorted(GUARDED))
def test_hook_permissions_are_scoped_to_their_function_and_deployment_group(
    expanded: dict[str, Any], function: str
) -> None:
    pre, post = GUARDED[function]["hooks"]
    version = {"Ref": next(n for n in expanded["Resources"] if n.startswith(f"{function}Version"))}

    pre_statements, post_statements = hook_statements(expanded, pre), hook_statements(expanded, post)

    assert pre_statements["InvokeTheNewVersion"]["Resource"] == version
    assert post_statements["InvokeTheLiveAlias"]["Resource"] == {"Fn::Sub": f"${{{function}.Arn}}:live"}
    for statements in (pre_statements, post_statements):
        report = statements["ReportToCodeDeploy"]
        assert report["Action"] == "codedeploy:PutLifecycleEventHookExecutionStatus"
        assert f"${{{function}DeploymentGroup}}" in report["Resource"]["Fn::Sub"]
        cleanup = statements["ReadAndDeleteTheCheckUsersMessages"]
        patterns = cleanup["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        for anonymous in (False, True):  # the check user's own messages, and those it sent anonymously
            assert allowed(patterns, user_partition(check_user("d-1234ABCDE"), anonymous=anonymous))
            assert not allowed(patterns, user_partition("alice", anonymous=anonymous))
            assert not allowed(patterns, user_partition("__other", anonymous=anonymous))
        # Read back (the golden set's outcome, straight from the table) and deleted; nothing else.
        assert set(cleanup["Action"]) == {"dynamodb:Query", "dynamodb:BatchWriteItem"}
        # The golden set's expected replies come from Translate itself, which takes no resource ARN.
        assert statements["TranslateTheExpectedReplies"]["Action"] == "translate:TranslateText"
        assert all(
            statement["Resource"] != "*"
            for sid, statement in statements.items()
            if sid != "TranslateTheExpectedReplies"
        )
    if function == "QueueConsumerFunction":  # after traffic, the golden set goes through the real queue
        assert post_statements["SendTheGoldenSetToTheQueue"]["Resource"] == {
            "Fn::GetAtt": ["MessagesQueue", "Arn"]
        }


def allowed(patterns: list[str], partition: str) -> bool:
    """Whether a LeadingKeys condition lets a partition through."""
    return any(fnmatch.fnmatchcase(partition, pattern) for pattern in patterns)


def test_a_hook_has_time_for_a_check_a_clean_up_call_and_its_report(template: dict[str, Any]) -> None:
    for name in resources_of_type(template, "AWS::Serverless::Function"):
        if name.endswith("TrafficHook"):
            timeout_ms = template["Resources"][name]["Properties"]["Timeout"] * 1000
            assert timeout_ms >= INVOKE_MS + CONTROL_CALL_MS + REPORT_MS, name


def alarm(expanded: dict[str, Any], name: str) -> dict[str, Any]:
    properties: dict[str, Any] = expanded["Resources"][name]["Properties"]
    return properties


@pytest.mark.parametrize("function", sorted(GUARDED))
def test_version_alarms_watch_the_new_version_through_the_alias(
    expanded: dict[str, Any], function: str
) -> None:
    prefix = "Api" if function == "ApiFunction" else "Consumer"
    throttles = {d["Name"]: d["Value"] for d in alarm(expanded, f"{prefix}ThrottlesAlarm")["Dimensions"]}
    assert throttles["Resource"] == {"Fn::Sub": f"${{{function}}}:live"}
    assert throttles["ExecutedVersion"]["Fn::Select"][0] == 7
    for name in (f"{prefix}ErrorsAlarm", f"{prefix}DurationAlarm"):
        stats = {m["Id"]: m["MetricStat"] for m in alarm(expanded, name)["Metrics"] if "MetricStat" in m}
        for stat in stats.values():
            dimensions = {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]}
            assert dimensions["Resource"] == {"Fn::Sub": f"${{{function}}}:live"}
            # The new version's own figures, or the alias's as a whole: its baseline.
            assert "ExecutedVersion" not in dimensions or dimensions["ExecutedVersion"]["Fn::Select"][0] == 7
    durations = {
        m["Id"]: m["MetricStat"]["Stat"]
        for m in alarm(expanded, f"{prefix}DurationAlarm")["Metrics"]
        if "MetricStat" in m
    }
    assert durations == {
        "p99": "p99",
        "p90": "p90",
        "invocations": "Sum",
        "baseline": "p80",
        "allInvocations": "Sum",
    }
    # The static threshold judges p99 from a minimum sample: one slow request of three is their p99.
    assert signal_text(expanded, prefix).startswith(
        "IF(FILL(invocations, 0) >= ${RateAlarmMinimumSample} AND p99 > "
    )
    # Compared with the other versions only while they carry five sixths of the traffic or more:
    # then the alias's p80 is at most the old version's p96, whatever the new one does; at 100 %
    # (and in the minute of the shift) the alias is mostly the new version itself.
    signal = next(m for m in alarm(expanded, f"{prefix}DurationAlarm")["Metrics"] if m.get("ReturnData"))
    assert (
        "FILL(allInvocations, 0) - FILL(invocations, 0) >= 5 * FILL(invocations, 0)"
        in signal["Expression"]["Fn::Sub"]
    )


def signal_text(expanded: dict[str, Any], prefix: str) -> str:
    signal = next(m for m in alarm(expanded, f"{prefix}DurationAlarm")["Metrics"] if m.get("ReturnData"))
    return str(signal["Expression"]["Fn::Sub"])


def test_duration_thresholds_sit_below_the_timeouts(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    api_timeout = template["Globals"]["Function"]["Timeout"]
    consumer_timeout = template["Resources"]["QueueConsumerFunction"]["Properties"]["Timeout"]

    assert parameters["ApiDurationP99ThresholdMs"]["Default"] < api_timeout * 1000
    assert parameters["ConsumerDurationP99ThresholdMs"]["Default"] < consumer_timeout * 1000


def test_the_5xx_alarm_is_a_rate_that_pages_and_never_rolls_back(expanded: dict[str, Any]) -> None:
    # API Gateway counts every version's answers: an incident on the old version would roll back
    # the release that fixes it. A person is paged instead.
    metrics = {m["Id"]: m for m in alarm(expanded, "Api5xxRateAlarm")["Metrics"]}
    assert all("Api5xxRateAlarm" not in json.dumps(group_of(expanded, f)) for f in GUARDED)
    assert alarm(expanded, "Api5xxRateAlarm")["AlarmActions"] == [{"Ref": "DeploymentAlertsTopic"}]

    assert metrics["errors"]["MetricStat"]["Metric"]["MetricName"] == "5XXError"
    assert metrics["requests"]["MetricStat"]["Metric"]["MetricName"] == "Count"
    assert metrics["rate"]["Expression"] == {
        "Fn::Sub": "IF(requests >= ${RateAlarmMinimumSample}, 100 * FILL(errors, 0) / requests, 0)"
    }
    assert metrics["rate"]["ReturnData"] is True


def test_every_rate_alarm_judges_only_a_minimum_sample(expanded: dict[str, Any]) -> None:
    # With 10 % of traffic in a one-minute period, one degraded message in four must not decide a
    # release: a rate is 0 (not breaching) until the period holds RateAlarmMinimumSample requests.
    rates = {}
    for name, resource in resources_of_type(expanded, "AWS::CloudWatch::Alarm").items():
        for metric in resource["Properties"].get("Metrics", []):
            if metric.get("ReturnData") and "Expression" in metric:
                rates[name] = metric["Expression"]
    assert set(rates) == {
        "Api5xxRateAlarm",
        "ApiDegradedAlarm",
        "ApiLocalLanguageAlarm",
        "ApiErrorsAlarm",
        "ApiDurationAlarm",
        "ApiTranslatedRepliesAlarm",
        "ApiPersistenceAlarm",
        "ConsumerDegradedAlarm",
        "ConsumerFailedRecordsAlarm",
        "ConsumerRejectionRateAlarm",
        "ConsumerLocalLanguageAlarm",
        "ConsumerErrorsAlarm",
        "ConsumerDurationAlarm",
        "ConsumerTranslatedRepliesAlarm",
        "ConsumerPersistenceAlarm",
    }
    for name, expression in rates.items():
        text = expression["Fn::Sub"] if "Fn::Sub" in expression else expression["Fn::If"][1]["Fn::Sub"]
        # Every rate, share or comparison is judged only from the minimum sample.
        assert re.search(r"IF\((FILL\()?\w+(, 0\))? >= \$\{RateAlarmMinimumSample\}", text), name


def test_business_alarms_read_the_emf_metrics_by_function_and_version(expanded: dict[str, Any]) -> None:
    # Both functions count under one namespace and service: the function's name keeps the API's
    # version 2 apart from the consumer's. A baseline is the same metric for the function alone.
    for name in (
        "ApiDegradedAlarm",
        "ApiLocalLanguageAlarm",
        "ApiTranslatedRepliesAlarm",
        "ApiPersistenceAlarm",
        "ConsumerDegradedAlarm",
        "ConsumerFailedRecordsAlarm",
        "ConsumerRejectionRateAlarm",
        "ConsumerLocalLanguageAlarm",
        "ConsumerTranslatedRepliesAlarm",
        "ConsumerPersistenceAlarm",
    ):
        function = "ApiFunction" if name.startswith("Api") else "QueueConsumerFunction"
        stats = [m["MetricStat"]["Metric"] for m in alarm(expanded, name)["Metrics"] if "MetricStat" in m]
        for metric in stats:
            assert metric["Namespace"] == "StoreAndReply"
            dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            assert dimensions["FunctionName"] == {"Ref": function}, name
            assert set(dimensions) in (
                {"FunctionName", "FunctionVersion", "service"},
                {"FunctionName", "service"},
            )


def test_no_rollback_alarm_reads_a_queue_metric_that_an_idle_queue_does_not_publish(
    expanded: dict[str, Any],
) -> None:
    # SQS publishes a queue's metrics only while it is active: a dead-letter queue idle for hours has
    # no datapoint before its first arrival. Redrives are counted by the consumer instead.
    dead_lettered = alarm(expanded, "ConsumerDeadLetteredAlarm")
    rollback = set().union(*(g["alarms"] for g in GUARDED.values()))

    assert (dead_lettered["Namespace"], dead_lettered["MetricName"]) == (
        "StoreAndReply",
        "RecordsDeadLettered",
    )
    for name in rollback:
        properties = alarm(expanded, name)
        namespaces = [properties.get("Namespace")] + [
            m["MetricStat"]["Metric"]["Namespace"] for m in properties.get("Metrics", []) if "MetricStat" in m
        ]
        assert "AWS/SQS" not in namespaces, name


def test_dead_letters_waiting_alert_a_person_without_stopping_releases(expanded: dict[str, Any]) -> None:
    waiting = alarm(expanded, "DeadLettersWaitingAlarm")
    guarding = [
        alarm_ref["Name"]["Ref"]
        for group in resources_of_type(expanded, "AWS::CodeDeploy::DeploymentGroup").values()
        for alarm_ref in group["Properties"]["AlarmConfiguration"]["Alarms"]
    ]

    assert waiting["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert waiting["AlarmActions"] == [{"Ref": "DeploymentAlertsTopic"}]
    assert "DeadLettersWaitingAlarm" not in guarding


def test_every_rollback_alarm_decides_within_minutes_tolerates_missing_data_and_notifies(
    expanded: dict[str, Any],
) -> None:
    alarms = resources_of_type(expanded, "AWS::CloudWatch::Alarm")
    rollback = set().union(*(g["alarms"] for g in GUARDED.values()))
    paging = {"DeadLettersWaitingAlarm", "WitnessErrorsAlarm", "WitnessFailuresAlarm", "Api5xxRateAlarm"}
    assert set(alarms) == rollback | paging
    for name, resource in alarms.items():
        if name not in rollback:
            continue
        properties = resource["Properties"]
        periods = [properties.get("Period")] + [
            m["MetricStat"]["Period"] for m in properties.get("Metrics", []) if "MetricStat" in m
        ]
        (period,) = set(periods) - {None}
        # Whole minutes, and breaching in time for a 10 % step of a few minutes to be rolled back.
        assert period % 60 == 0, name
        assert period * properties.get("DatapointsToAlarm", properties["EvaluationPeriods"]) <= 240, name
        assert properties["TreatMissingData"] == "notBreaching", name
        assert properties["AlarmActions"] == [{"Ref": "DeploymentAlertsTopic"}], name
        if properties["Threshold"] == 1:  # an alarm whose value says which of its signals fired
            (signal,) = [m for m in properties["Metrics"] if m.get("ReturnData")]
            assert "(1)" in signal["Label"], name
            assert "The value says which signal fired" in properties["AlarmDescription"], name
        else:
            assert isinstance(properties["Threshold"], dict), f"{name}: threshold is a parameter"


def test_the_alerts_topic_is_encrypted_and_can_mail_someone(template: dict[str, Any]) -> None:
    topic = template["Resources"]["DeploymentAlertsTopic"]["Properties"]
    subscription = template["Resources"]["DeploymentAlertsEmail"]

    assert topic["KmsMasterKeyId"] == {"Ref": "AlertsKey"}
    assert subscription["Condition"] == "HasAlertEmail"
    assert subscription["Properties"]["Protocol"] == "email"


def test_the_dashboard_shows_versions_api_queues_and_degraded_replies(template: dict[str, Any]) -> None:
    body = template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]

    for needle in ("ExecutedVersion", "5XXError", "4XXError", "ApproximateAgeOfOldestMessage",
                   "DeadLetterQueueName", "DegradedReplies", "Duration"):  # fmt: skip
        assert needle in body


def version_id(expanded: dict[str, Any], function: str) -> str:
    return str(next(name for name in expanded["Resources"] if name.startswith(f"{function}Version")))


def project_copy(tmp_path: Path) -> Path:
    for folder in ("functions", "layers", "events"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_a_change_to_shared_code_alone_publishes_new_versions(tmp_path: Path) -> None:
    root = project_copy(tmp_path)
    before = expand(load_template(), root=root)
    (root / "layers/shared/store_reply/replies.py").write_text(
        (root / "layers/shared/store_reply/replies.py").read_text() + "\n# changed\n"
    )
    after = expand(load_template(), root=root)

    for function in GUARDED:
        assert version_id(before, function) != version_id(after, function)


def test_an_unchanged_project_publishes_no_new_version(tmp_path: Path) -> None:
    root = project_copy(tmp_path)

    assert version_id(expand(load_template(), root=root), "ApiFunction") == version_id(
        expand(load_template(), root=root), "ApiFunction"
    )


def test_the_release_guide_promises_alarm_rollbacks_only_where_an_alarm_can_evaluate() -> None:
    # AllAtOnce shifts everything before a one-minute alarm has a datapoint: the hooks guard such a
    # release, the alarms only alert.
    readme = (ROOT / "docs" / "releases.md").read_text()
    for environment, config in CONFIG_BY_ENVIRONMENT.items():
        (row,) = [line for line in readme.splitlines() if line.startswith(f"| `{environment}` | `")]
        if config.endswith("AllAtOnce"):
            assert "the alarms only alert" in row, row
            assert "behind both hooks and the alarms" not in row, row


@pytest.mark.parametrize("function", sorted(GUARDED))
def test_every_rollback_alarm_belongs_to_the_new_version_and_is_new_with_it(
    expanded: dict[str, Any], function: str
) -> None:
    """PutMetricAlarm: an updated alarm keeps its state. An alarm updated in place at each release
    would carry the old version's ALARM into the new version's deployment and stop it at the first
    poll; one named after its version is a new alarm each release, without a state."""
    for name in GUARDED[function]["alarms"]:
        properties = alarm(expanded, name)
        template, values = properties["AlarmName"]["Fn::Sub"]
        assert template == f"${{AWS::StackName}}-{name}-v${{Version}}", name
        # It judges the function's own metrics (its version's, and all its versions' as the
        # baseline), nothing stage-wide that another version's incident could breach.
        metrics = [m["MetricStat"]["Metric"] for m in properties.get("Metrics", []) if "MetricStat" in m]
        metrics += [properties] if "MetricName" in properties else []
        assert metrics, name
        scoped = False
        for metric in metrics:
            dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            assert metric["Namespace"] in {"AWS/Lambda", "StoreAndReply"}, name
            assert dimensions.get("FunctionName") == {"Ref": function}, name
            judged = dimensions.get("FunctionVersion", dimensions.get("ExecutedVersion"))
            if judged is not None:
                # ... the very version its name carries.
                assert judged == values["Version"], name
                scoped = True
        assert scoped, f"{name} reads no metric of the new version"
