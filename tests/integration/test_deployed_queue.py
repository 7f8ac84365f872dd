"""The deployed queue path: real messages on the real queue, read back through the real API."""

import json

import boto3

from tests.support.deployed import SignedInUser, Stack
from tests.support.http import eventually, http

WAIT_SECONDS = 60


def test_a_queued_message_is_stored_and_readable(stack: Stack, test_user: SignedInUser) -> None:
    sqs = boto3.client("sqs")
    sqs.send_message(
        QueueUrl=stack.outputs["QueueUrl"],
        MessageBody=json.dumps({"user": test_user.name, "message": "Gracias"}),
    )

    def stored() -> list[dict[str, str]] | None:
        headers = {"Authorization": test_user.token, "x-api-key": stack.api_key}
        page = http("GET", stack.url("/messages/me"), headers=headers)
        return page.body["messages"] or None

    (message,) = eventually(stored, seconds=WAIT_SECONDS, interval=2)
    assert message["message"] == "Gracias"


def test_a_poison_record_lands_in_the_dead_letter_queue_with_its_reason(
    stack: Stack, test_user: SignedInUser
) -> None:
    sqs = boto3.client("sqs")
    sent = sqs.send_message(
        QueueUrl=stack.outputs["QueueUrl"], MessageBody=json.dumps({"user": test_user.name})
    )

    def rejected() -> dict[str, str] | None:
        received = sqs.receive_message(
            QueueUrl=stack.outputs["DeadLetterQueueUrl"],
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            VisibilityTimeout=5,
        ).get("Messages", [])
        for message in received:
            if message["MessageAttributes"]["SourceMessageId"]["StringValue"] == sent["MessageId"]:
                sqs.delete_message(
                    QueueUrl=stack.outputs["DeadLetterQueueUrl"], ReceiptHandle=message["ReceiptHandle"]
                )
                return {"reason": message["MessageAttributes"]["RejectionReason"]["StringValue"]}
        return None

    assert eventually(rejected, seconds=WAIT_SECONDS, interval=2)["reason"] == "message: Field required"
