"""X-Ray instrumentation of the AWS SDKs, applied when the first client is built.

The functions create their Tracer with ``auto_patch=False``: patching at import would load
botocore and PynamoDB on every cold start, including requests that never touch AWS (the SDK's
first call, /api/server/about). Patching here, before the first client exists, still traces every
AWS call. Outside Lambda (tests, the embedded runtime, the admin command) the Tracer is disabled
and this does nothing.
"""

from __future__ import annotations

from functools import cache


@cache
def instrument_aws_sdks() -> None:
    from aws_lambda_powertools import Tracer

    Tracer(auto_patch=False).patch(["botocore", "pynamodb"])
