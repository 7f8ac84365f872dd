"""The persistence witness's handler: a batch of stream records in, one EMF line per writing version out.

It imports nothing of the application (not even Powertools, which comes in the candidate's
layer): the standard library writes the Embedded Metric Format. A version's ``MessagesPersisted``
sits beside the ``MessagesAccepted`` it counted itself, under the same dimensions, so a rollback
alarm divides one by the other.
"""

import json
import os
import sys
import time
from typing import Any

from store_reply_witness.counting import UNATTRIBUTED, tally

NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "StoreAndReply")
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "store-and-reply")


def emf_line(function: str, version: str, count: int, timestamp_ms: int) -> str:
    """One EMF document: ``MessagesPersisted`` under FunctionName, FunctionVersion and service (the
    version's) and under FunctionName and service (all the function's versions, the baseline a new
    one is compared with), filed under the moment the messages were written."""
    return json.dumps(
        {
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [
                    {
                        "Namespace": NAMESPACE,
                        "Dimensions": [
                            ["FunctionName", "FunctionVersion", "service"],
                            ["FunctionName", "service"],
                        ],
                        "Metrics": [{"Name": "MessagesPersisted", "Unit": "Count"}],
                    }
                ],
            },
            "FunctionName": function,
            "FunctionVersion": version,
            "service": SERVICE,
            "MessagesPersisted": count,
        }
    )


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ARG001 (Lambda's signature)
    """Count the batch; nothing in it can fail, so no record is ever reported for retry."""
    now_ms = int(time.time() * 1000)
    counted = tally(event.get("Records", []), now_ms)
    for ((function, version), written_ms), count in sorted(counted.persisted.items()):
        if (function, version) != UNATTRIBUTED:
            print(emf_line(function, version, count, written_ms))
    print(
        json.dumps(
            {
                "message": "Witnessed a batch",
                "records": len(event.get("Records", [])),
                "unattributed": counted.by_writer().get(UNATTRIBUTED, 0),
                "skipped": dict(counted.skipped),
            }
        ),
        file=sys.stderr,
    )
    return {"batchItemFailures": []}
