"""Error responses of the HTTP API: always ``{"error": KIND, "detail": ...}``, never a traceback,
never a secret (every message goes through :func:`security.redact`)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ai_conductor.errors import ConductorError, SpecError, UsageError
from ai_conductor.server.security import redact
from ai_conductor.settings import Settings

__all__ = ["OUTSIDE_ROOTS", "install_error_handlers", "usage_status"]
log = logging.getLogger(__name__)
OUTSIDE_ROOTS = "outside the allowed roots"
_KINDS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found"}
_KINDS |= {405: "method_not_allowed", 409: "conflict", 413: "payload_too_large"}


def usage_status(exc: UsageError) -> int:
    """403 for a path outside the allowed roots, 422 for any other bad input."""
    return 403 if OUTSIDE_ROOTS in str(exc) else 422


def _validation_detail(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Where and why, without echoing the submitted values."""
    out = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        out.append({"loc": loc, "msg": str(err.get("msg", "invalid value"))})
    return out


def install_error_handlers(app: FastAPI, settings: Settings) -> None:
    """Map every error the API can raise to a JSON ``{error, detail}`` response."""

    def body(status: int, error: str, detail: Any) -> JSONResponse:
        if isinstance(detail, str):
            detail = redact(detail, settings)
        return JSONResponse({"error": error, "detail": detail}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return body(422, "invalid_request", _validation_detail(exc))

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        response = body(exc.status_code, _KINDS.get(exc.status_code, "error"), exc.detail)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(UsageError)
    async def _usage(_: Request, exc: UsageError) -> JSONResponse:
        status = usage_status(exc)
        if isinstance(exc, SpecError):
            problems = [redact(p.render(), settings) for p in exc.problems]
            return body(422, "invalid_spec", problems)
        return body(status, "forbidden" if status == 403 else "invalid_request", str(exc))

    @app.exception_handler(ConductorError)
    async def _conductor(_: Request, exc: ConductorError) -> JSONResponse:
        log.warning("request failed: %s", redact(str(exc), settings))
        return body(500, "conductor_error", str(exc) or type(exc).__name__)

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error in a request: %s", type(exc).__name__, exc_info=exc)
        return body(500, "internal_error", "internal error; details are in the server log")
