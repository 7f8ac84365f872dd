"""The local stack used as a developer uses it: HTTP on every route, messages on the queue."""

import json
from urllib.parse import quote

from tests.support.http import eventually
from tests.support.local_stack import RunningStack

FRENCH = {"message": "Bonjour, merci beaucoup pour votre aide"}


def test_post_replies_in_the_senders_language(stack: RunningStack) -> None:
    reply = stack.http("POST", "/messages", FRENCH, headers=stack.as_user("alice"))

    assert reply.status == 201
    assert reply.body["language"] == "fr"
    assert reply.body["reply"] == "Merci pour votre message !"
    assert reply.body["translated"] is True


def test_send_answers_like_the_demo(stack: RunningStack) -> None:
    reply = stack.http("GET", f"/send?user=bruno&message={quote('Vielen Dank für die schnelle Antwort')}")

    assert reply.status == 200
    assert reply.body["message"] == "Vielen Dank für Ihre Nachricht!"


def test_a_language_outside_the_catalogue_takes_the_degraded_path(stack: RunningStack) -> None:
    reply = stack.http(
        "POST", "/messages", {"message": "Tack så mycket för hjälpen igår"}, headers=stack.as_user("sven")
    )

    assert reply.status == 201
    assert reply.body["language"] == "sv"
    assert reply.body["translated"] is False
    assert reply.body["reply"] == "Thank you for your message!"


def test_history_needs_the_api_key(stack: RunningStack) -> None:
    carol = stack.as_user("carol")
    stack.http("POST", "/messages", {"message": "Thanks for the help"}, headers=carol)

    without = stack.http("GET", "/messages/carol", headers=carol)
    wrong = stack.http("GET", "/messages/carol", headers={**carol, "x-api-key": "guess"})
    keyed = stack.http("GET", "/messages/carol?limit=5", headers={**carol, "x-api-key": stack.api_key})

    assert (without.status, without.body) == (403, {"message": "Forbidden"})
    assert wrong.status == 403
    assert keyed.status == 200
    assert [m["message"] for m in keyed.body["messages"]] == ["Thanks for the help"]


def test_a_percent_encoded_user_reads_their_own_history(stack: RunningStack) -> None:
    zoe = stack.as_user("zoë", api_key=True)
    stack.http("POST", "/messages", {"message": "Hello from Zoë"}, headers=zoe)

    reply = stack.http("GET", f"/messages/{quote('zoë')}", headers=zoe)

    assert [m["message"] for m in reply.body["messages"]] == ["Hello from Zoë"]


def test_bad_input_is_refused_with_the_field_named(stack: RunningStack) -> None:
    dave = stack.as_user("dave", api_key=True)
    missing = stack.http("POST", "/messages", {"user": "dave"}, headers=dave)
    too_long = stack.http("POST", "/messages", {"message": "x" * 5001}, headers=dave)
    malformed = stack.http("POST", "/messages", '{"message": "hi", ', headers=dave)
    bad_token = stack.http("GET", "/messages/dave?next=forged", headers=dave)

    assert (missing.status, missing.body["errors"][0]["field"]) == (422, "body.message")
    assert too_long.status == 422
    assert malformed.status == 400
    assert bad_token.status == 400


def test_a_message_the_local_model_is_unsure_of_is_answered_in_its_language(stack: RunningStack) -> None:
    # As hybrid does in AWS: 20 characters or more, below the model's confidence threshold, so the
    # language service (offline, its stand-in) decides.
    reply = stack.http("GET", "/send?user=gianni&message=ciao%2C%20grazie%20per%20la%20risposta%20veloce")

    assert reply.status == 200, reply.body
    assert (reply.body["language"], reply.body["translated"]) == ("it", True)


def test_unknown_routes_and_methods(stack: RunningStack) -> None:
    unknown = stack.http("GET", "/nowhere")
    wrong_method = stack.http("DELETE", "/messages")

    assert unknown.status == 404
    # API Gateway's own answer (the template's mock), as the function would give it.
    assert wrong_method.status == 405
    assert wrong_method.body == {"message": "DELETE is not allowed on /messages"}
    assert wrong_method.headers["Allow"] == "POST"


def test_another_method_with_any_body_is_a_405_and_an_unknown_media_type_a_415(stack: RunningStack) -> None:
    # As API Gateway answers through the mock: a template for each common media type, no
    # passthrough for the others (a raw body would leave the mock without a status code: a 500).
    text = stack.http("PUT", "/messages", "hello", headers={"Content-Type": "text/plain"})
    pdf = stack.http("PUT", "/messages", "%PDF-1.7", headers={"Content-Type": "application/pdf"})

    assert (text.status, text.headers["Allow"]) == (405, "POST")
    assert pdf.status == 415
    assert pdf.body == {"message": "Unsupported media type: send application/json"}


def test_openapi_and_swagger_ui(stack: RunningStack) -> None:
    document = stack.http("GET", "/openapi.json").body

    assert {"/send", "/messages", "/messages/me", "/messages/{user}"} <= set(document["paths"])
    assert document["paths"]["/messages/{user}"]["get"]["security"] == [{"userPool": [], "apiKey": []}]
    assert document["servers"] == [{"url": stack.api}]


def test_a_queued_batch_is_stored(stack: RunningStack) -> None:
    sqs = stack.client("sqs")
    queue = stack.queue_url("MessagesQueue")
    bodies = [{"user": "quinn", "message": f"Thanks for message number {n}"} for n in range(3)]
    sqs.send_message_batch(
        QueueUrl=queue, Entries=[{"Id": str(n), "MessageBody": json.dumps(b)} for n, b in enumerate(bodies)]
    )

    quinn = stack.as_user("quinn", api_key=True)

    def stored() -> list[str] | None:
        page = stack.http("GET", "/messages/quinn", headers=quinn).body
        return sorted(m["message"] for m in page["messages"]) if len(page["messages"]) == 3 else None

    assert eventually(stored) == sorted(b["message"] for b in bodies)


def test_a_poison_record_ends_in_the_dead_letter_queue(stack: RunningStack) -> None:
    sqs = stack.client("sqs")
    sent = sqs.send_message(QueueUrl=stack.queue_url("MessagesQueue"), MessageBody="{not json")

    def dead_lettered() -> dict[str, str] | None:
        received = sqs.receive_message(
            QueueUrl=stack.queue_url("MessagesDeadLetterQueue"),
            MessageAttributeNames=["All"],
            MaxNumberOfMessages=10,
        ).get("Messages", [])
        for message in received:
            if message["MessageAttributes"]["SourceMessageId"]["StringValue"] == sent["MessageId"]:
                return {"body": message["Body"]}
        return None

    assert eventually(dead_lettered) == {"body": "{not json"}
