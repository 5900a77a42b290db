"""One error shape for every failure, and handlers that never leak a stack trace or a store's detail.

    {"error": {"status": 400, "code": "invalid_parameter", "message": "...",
               "fields": [{"field": "limit", "message": "..."}]}}
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from api.query.pinot_sql import UnsafeValue
from api.readers.base import StoreUnavailable

log = logging.getLogger(__name__)


class FieldError(BaseModel):
    field: str
    message: str


class ErrorDetail(BaseModel):
    status: int
    code: str
    message: str
    fields: list[FieldError] = []


class ErrorBody(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: list[FieldError] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields, self.headers = fields or [], headers or {}


def invalid(field: str, message: str) -> ApiError:
    return ApiError(400, "invalid_parameter", "invalid request parameters", [FieldError(field=field, message=message)])


def not_found() -> ApiError:
    # The same answer whether the id is unknown or belongs to another tenant.
    return ApiError(404, "not_found", "no such event for this tenant")


def _response(status: int, code: str, message: str, fields: list[FieldError] | None = None,
              headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(status=status, code=code, message=message, fields=fields or []))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


_HTTP_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
               406: "not_acceptable", 413: "too_large", 415: "unsupported_media_type", 429: "rate_limited"}


def install(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return _response(exc.status, exc.code, exc.message, exc.fields, exc.headers)

    async def validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        fields = []
        for err in exc.errors():
            loc: tuple[Any, ...] = tuple(err.get("loc", ()))
            name = ".".join(str(p) for p in loc[1:]) or str(loc[0] if loc else "request")
            fields.append(FieldError(field=name, message=str(err.get("msg", "invalid"))))
        return _response(400, "invalid_parameter", "invalid request parameters", fields)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code < 500 else code.replace("_", " ")
        return _response(exc.status_code, code, message, headers=dict(exc.headers or {}))

    async def unsafe(request: Request, exc: Exception) -> JSONResponse:
        # Validation should have caught it; the query layer refusing a value is still the client's input.
        return _response(400, "invalid_parameter", "a parameter holds characters that are not allowed")

    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        return _response(503, "store_unavailable", "a data store is unavailable, try again",
                         headers={"Retry-After": "5"})

    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _response(500, "internal", "internal error")

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(StoreUnavailable, unavailable)
    app.add_exception_handler(UnsafeValue, unsafe)
    app.add_exception_handler(Exception, internal)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Invalid parameters, with a message per field."},
    401: {"model": ErrorBody, "description": "Missing or invalid credentials."},
    403: {"model": ErrorBody, "description": "The credential lacks the scope this endpoint needs."},
    429: {"model": ErrorBody, "description": "API-key rate limit exceeded; see Retry-After."},
    503: {"model": ErrorBody, "description": "A data store is unavailable."},
}
