"""The one error vocabulary of the gateway.

Every failure a client can see is a `GatewayError` subclass that knows how each
protocol expresses it (HTTP status, OpenAI and Anthropic error types, gRPC status
code name, MCP error code). Raise sites only pick the class and the message;
frontends map the error to their protocol in exactly one place each.
"""

from __future__ import annotations

from typing import Any, TypedDict, Unpack

__all__ = [
    "AuthenticationFailed",
    "GatewayError",
    "InvalidRequest",
    "JobCancelled",
    "LimitsUnavailable",
    "ModelNotFound",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "ProviderKeyMissing",
    "QuotaExceeded",
    "RateLimited",
    "ServiceUnavailable",
    "ShuttingDown",
    "TransformFailed",
    "UpstreamError",
    "UpstreamTimeout",
    "UpstreamUnavailable",
]


class _ErrorOptions(TypedDict, total=False):
    """`GatewayError`'s keyword arguments, for subclasses that pass them on."""

    code: str | None
    param: str | None
    status: int | None
    retry_after: float | None
    cause: str | None


class GatewayError(Exception):
    """Base of every error a client may see; the defaults describe an internal error."""

    status: int = 500
    openai_type: str = "api_error"
    anthropic_type: str = "api_error"
    grpc_code: str = "INTERNAL"
    mcp_code: int = -32603
    default_code: str | None = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        cause: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code if code is not None else self.default_code
        self.param = param
        self.retry_after = retry_after
        self.cause = cause
        """What exactly went wrong, for the operator (access log, metrics, traces): an
        upstream's `dns`, `refused`, `reset`, `tls`, `connect_timeout`, ..., or which
        limit refused (`rpm`, `tpm`, `concurrency`, `quota`). Never sent to a client."""
        if status is not None:
            self.status = status

    def openai_body(self) -> dict[str, Any]:
        """The OpenAI error envelope: what the official SDKs parse."""
        return {
            "error": {
                "message": self.message,
                "type": self.openai_type,
                "param": self.param,
                "code": self.code,
            }
        }

    def anthropic_body(self) -> dict[str, Any]:
        """The Anthropic error envelope used by the Messages API."""
        return {"type": "error", "error": {"type": self.anthropic_type, "message": self.message}}

    def anthropic_status(self) -> int:
        """Anthropic's status for this error: its own 529 for 'overloaded', else `status`."""
        return 529 if self.anthropic_type == "overloaded_error" else self.status


class InvalidRequest(GatewayError):
    status = 400
    openai_type = "invalid_request_error"
    anthropic_type = "invalid_request_error"
    grpc_code = "INVALID_ARGUMENT"
    mcp_code = -32602
    default_code = "invalid_request"


class AuthenticationFailed(GatewayError):
    status = 401
    openai_type = "authentication_error"
    anthropic_type = "authentication_error"
    grpc_code = "UNAUTHENTICATED"
    mcp_code = -32001
    default_code = "invalid_api_key"


class PermissionDenied(GatewayError):
    status = 403
    openai_type = "permission_error"
    anthropic_type = "permission_error"
    grpc_code = "PERMISSION_DENIED"
    mcp_code = -32003
    default_code = "permission_denied"


class NotFound(GatewayError):
    status = 404
    openai_type = "invalid_request_error"
    anthropic_type = "not_found_error"
    grpc_code = "NOT_FOUND"
    mcp_code = -32602
    default_code = "not_found"


class ModelNotFound(NotFound):
    default_code = "model_not_found"


class PayloadTooLarge(GatewayError):
    status = 413
    openai_type = "invalid_request_error"
    anthropic_type = "request_too_large"
    grpc_code = "RESOURCE_EXHAUSTED"
    mcp_code = -32602
    default_code = "request_too_large"


class RateLimited(GatewayError):
    status = 429
    openai_type = "rate_limit_error"
    anthropic_type = "rate_limit_error"
    grpc_code = "RESOURCE_EXHAUSTED"
    mcp_code = -32002
    default_code = "rate_limit_exceeded"


class QuotaExceeded(RateLimited):
    openai_type = "insufficient_quota"
    default_code = "insufficient_quota"


class LimitsUnavailable(GatewayError):
    """The shared limit store (Redis) cannot be reached: limited keys wait, not run unlimited."""

    status = 503
    grpc_code = "UNAVAILABLE"
    default_code = "limits_unavailable"


class ServiceUnavailable(GatewayError):
    """The gateway's own database cannot be reached: try again later (not the caller's fault)."""

    status = 503
    grpc_code = "UNAVAILABLE"
    default_code = "service_unavailable"


class ShuttingDown(ServiceUnavailable):
    """The gateway stopped while this call was still running (its grace period ended)."""

    default_code = "shutting_down"


class UpstreamError(GatewayError):
    """The vendor answered with an error; its status (4xx) and message are passed on."""

    status = 502
    openai_type = "upstream_error"
    anthropic_type = "api_error"
    grpc_code = "UNAVAILABLE"
    mcp_code = -32603
    default_code = "upstream_error"

    def __init__(
        self, message: str, *, upstream_status: int | None = None, **kw: Unpack[_ErrorOptions]
    ) -> None:
        super().__init__(message, **kw)
        self.upstream_status = upstream_status
        if upstream_status is not None and self.cause is None:
            self.cause = f"status_{upstream_status}"
        if upstream_status is not None and "status" not in kw:
            self.status = _client_status_for_upstream(upstream_status)
            if self.status == 400:
                self.openai_type = "invalid_request_error"
                self.anthropic_type = "invalid_request_error"
                self.grpc_code = "INVALID_ARGUMENT"
            elif self.status == 429:
                self.openai_type = "rate_limit_error"
                self.anthropic_type = "rate_limit_error"
                self.grpc_code = "RESOURCE_EXHAUSTED"
            elif self.status in (404, 422):
                self.openai_type = "invalid_request_error"
                self.anthropic_type = "not_found_error" if self.status == 404 else "api_error"
                self.grpc_code = "NOT_FOUND" if self.status == 404 else "INVALID_ARGUMENT"


def _client_status_for_upstream(upstream_status: int) -> int:
    """Pass client errors on; the gateway's own credentials and vendor faults become 502.

    An upstream 401/403 is about the provider key the operator configured, not the
    caller's key, so reporting it as the caller's auth failure would mislead.
    """
    if upstream_status in (400, 404, 409, 413, 422, 429):
        return upstream_status
    if upstream_status == 529:
        return 503
    return 502


class ProviderKeyMissing(UpstreamError):
    """The route takes its provider key from an environment variable the gateway lacks."""

    default_code = "provider_key_missing"

    def __init__(self, model: str, variable: str) -> None:
        super().__init__(
            f"Model '{model}' takes its API key from the environment variable {variable},"
            " which is not set in the gateway's environment"
            " (or not allowed by LOWART_API_KEY_ENV_ALLOW)."
        )


class UpstreamTimeout(GatewayError):
    status = 504
    openai_type = "upstream_error"
    anthropic_type = "api_error"
    grpc_code = "DEADLINE_EXCEEDED"
    mcp_code = -32603
    default_code = "upstream_timeout"


class UpstreamUnavailable(GatewayError):
    """The vendor could not be reached at all (connection refused, DNS, reset)."""

    status = 502
    openai_type = "upstream_error"
    anthropic_type = "api_error"
    grpc_code = "UNAVAILABLE"
    mcp_code = -32603
    default_code = "upstream_unavailable"


class TransformFailed(GatewayError):
    """A route's script failed; the request is failed, never half-transformed."""

    status = 502
    openai_type = "transform_error"
    anthropic_type = "api_error"
    grpc_code = "FAILED_PRECONDITION"
    mcp_code = -32603
    default_code = "transform_failed"


class JobCancelled(GatewayError):
    """The image job a caller waits on was cancelled (by its owner, through the API)."""

    status = 409
    openai_type = "invalid_request_error"
    anthropic_type = "invalid_request_error"
    grpc_code = "CANCELLED"
    mcp_code = -32603
    default_code = "job_cancelled"
