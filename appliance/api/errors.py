"""Every failure becomes a 4xx answer with a one-line reason: ``{"error": "..."}``.

Validation errors name the first offending field; domain errors map to the status that says
what went wrong (404 missing, 409 conflicting, 400 invalid). A 500 would be a bug: it is
logged with its traceback and answered without one.
"""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from appliance.app.repository import ConflictError, NotFoundError
from appliance.lorawan.errors import InvalidValueError
from appliance.ns.sqlite_management import ManagementError
from appliance.ns.sqlite_store import DuplicateError

log = logging.getLogger("appliance.api")


class APIError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _location(part: object) -> str:
    """One step of a field's path; a dict key the client chose may hold anything (a line
    break would make the error two lines), so such a key is shown JSON-quoted."""
    text = str(part)
    return text if text.isprintable() else json.dumps(text)


def _validation_message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "invalid request"
    first = errors[0]
    where = ".".join(_location(part) for part in first.get("loc", ()) if part != "body")
    message = str(first.get("msg", "invalid value")).splitlines()[0]
    message = message.removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {message}{more}" if where else f"{message}{more}"


def install(app: FastAPI) -> None:
    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, APIError)
        return error_response(exc.status, exc.message)

    async def validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, _validation_message(exc))

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return error_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    async def not_found(_: Request, exc: Exception) -> JSONResponse:
        return error_response(404, str(exc))

    async def conflict(_: Request, exc: Exception) -> JSONResponse:
        return error_response(409, str(exc))

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        return error_response(400, str(exc))

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(500, "internal error (logged by the appliance)")

    app.add_exception_handler(APIError, api_error)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(NotFoundError, not_found)
    app.add_exception_handler(ConflictError, conflict)
    app.add_exception_handler(DuplicateError, conflict)
    app.add_exception_handler(ManagementError, conflict)
    app.add_exception_handler(InvalidValueError, invalid)
    app.add_exception_handler(Exception, unexpected)
