"""AWS error codes -> domain errors. Everything not listed propagates unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from pynamodb.exceptions import PynamoDBException, TransactWriteError

from ...domain.errors import ConflictError, CvatServerlessError, DependencyUnavailableError, NotFoundError

THROTTLING_CODES = frozenset({
    "ThrottlingException", "Throttling", "ProvisionedThroughputExceededException",
    "RequestLimitExceeded", "TooManyRequestsException", "SlowDown", "ServiceUnavailable",
    "InternalServerError", "InternalError", "RequestThrottled",
})
CONFLICT_CODES = frozenset({
    "ConditionalCheckFailedException", "TransactionConflictException", "ConditionalCheckFailed",
    "TransactionConflict",  # a cancellation reason: another transaction touched the same item
})
NOT_FOUND_CODES = frozenset({
    "NoSuchKey", "404", "NotFound", "NoSuchBucket", "ResourceNotFoundException",
    "NoSuchUpload",  # an S3 multipart upload id that was completed, aborted or never existed
})


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _translated(what: str, code: str) -> CvatServerlessError | None:
    if code in CONFLICT_CODES:
        return ConflictError(f"{what}: the object was changed concurrently or already exists.")
    if code in THROTTLING_CODES:
        return DependencyUnavailableError(f"{what}: AWS is busy ({code}); try again.")
    if code in NOT_FOUND_CODES:
        return NotFoundError(f"{what}: not found.")
    return None


@contextmanager
def aws_errors(what: str) -> Iterator[None]:
    """Translate AWS failures while doing ``what`` into the product's error tree."""
    try:
        yield
    except ClientError as exc:
        mapped = _translated(what, error_code(exc))
        if mapped is None:
            raise
        raise mapped from exc
    except TransactWriteError as exc:
        reasons = {r.code for r in (exc.cancellation_reasons or []) if r is not None}
        conflict = reasons & CONFLICT_CODES
        code = sorted(conflict)[0] if conflict else str(exc.cause_response_code)
        mapped = _translated(what, code)
        if mapped is None:
            raise
        raise mapped from exc
    except PynamoDBException as exc:
        mapped = _translated(what, str(exc.cause_response_code or ""))
        if mapped is None:
            raise
        raise mapped from exc
    except BotoConnectionError as exc:
        raise DependencyUnavailableError(f"{what}: cannot reach AWS ({exc}).") from exc
