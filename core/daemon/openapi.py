"""The console API's OpenAPI 3.1 document, served at /api/openapi.json (a test checks it names every route there is,
and that it is a valid document)."""
from __future__ import annotations

from typing import Any

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
JOB = {"type": "object", "properties": {
    "id": {"type": "integer"}, "topic": {"type": "string"}, "account": {"type": "string"},
    "status": {"type": "string", "enum": ["queued", "waiting_budget", "waiting_provider", "awaiting_approval",
                                          "running", "done", "failed", "cancelled"]},
    "stage": {"type": "string"}, "provider": {"type": ["string", "null"]},
    "progress": {"type": ["number", "null"]}, "eta_s": {"type": ["number", "null"]},
    "cost_usd": {"type": "number"}, "error": {"type": ["string", "null"]}, "file": {"type": ["string", "null"]},
    "video_url": {"type": ["string", "null"]}, "attempts": {"type": "array"}, "scenes": {"type": "array"}}}
BRIEF = {"type": "object", "properties": {
    "hook": {"type": "string", "minLength": 1}, "beats": {"type": "array", "items": {"type": "string"},
                                                          "minItems": 3, "maxItems": 6},
    "cta": {"type": "string", "minLength": 1}, "caption": {"type": "string"},
    "hashtags": {"type": "array", "items": {"type": "string"}}, "visual_prompt": {"type": "string", "minLength": 1}}}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _op(summary: str, ok: dict[str, Any] | None = None, body: dict[str, Any] | None = None,
        errors: tuple[int, ...] = (), parameters: tuple[str, ...] = ()) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": ok or _json({"type": "object"})}
    responses["401"] = _json(ERROR, "missing or wrong bearer token")
    for code in errors:
        responses[str(code)] = _json(ERROR, {400: "bad input: one line", 403: "a cookie change that is not JSON",
                                             404: "not found"}[code])
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if parameters:
        operation["parameters"] = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                                   for name in parameters]
    return operation


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "AI influencer daemon — operator console", "version": "1",
             "description": "Every request needs `Authorization: Bearer $CONSOLE_TOKEN` (or the dashboard's cookie)."},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
    "paths": {
        "/api/openapi.json": {"get": _op("this document")},
        "/api/status": {"get": _op("what `status --json` prints, each job with its video_url", _json({
            "type": "object", "properties": {"jobs": {"type": "array", "items": JOB}, "budget": {"type": "object"}}}))},
        "/api/stream": {"get": _op("server-sent events: `status` whenever it changes", {
            "description": "an event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}})},
        "/api/jobs": {
            "get": _op("the newest jobs", _json({"type": "object", "properties": {
                "jobs": {"type": "array", "items": JOB}}})),
            "post": _op("queue a job, checked as `generate` checks it", _json({"type": "object", "properties": {
                "id": {"type": "integer"}, "status": {"type": "string"}}}, "queued (201)"), {
                "type": "object", "required": ["prompt"], "properties": {
                    "prompt": {"type": "string"}, "priority": {"type": "integer"},
                    "quality": {"type": "string", "enum": ["standard", "hd", "premium"]},
                    "duration_s": {"type": "number"}, "account": {"type": "string"}}}, (400, 403))},
        "/api/jobs/{id}": {"get": _op("one job with its brief", _json(JOB), errors=(404,), parameters=("id",))},
        "/api/jobs/{id}/cancel": {"post": _op("cancel it, as `cancel` does", errors=(404,), parameters=("id",))},
        "/api/jobs/{id}/retry": {"post": _op("make a failed or cancelled job again, as a new job from its brief",
                                             errors=(400, 404), parameters=("id",))},
        "/api/jobs/{id}/approve": {"post": _op("approve its brief: the job is queued", errors=(400, 404),
                                               parameters=("id",))},
        "/api/jobs/{id}/reject": {"post": _op("reject its brief: the job is cancelled", body={
            "type": "object", "properties": {"reason": {"type": "string"}}}, errors=(400, 404), parameters=("id",))},
        "/api/jobs/{id}/brief": {"patch": _op("edit a brief awaiting approval", body=BRIEF, errors=(400, 404),
                                              parameters=("id",))},
        "/api/briefs": {"get": _op("the briefs awaiting review")},
        "/api/trends": {"get": _op("the best trends not yet made, with their scores")},
        "/api/budget": {"get": _op("the caps, spend, reservations and alerts of today and this month")},
        "/api/reports": {"get": _op("the reports written, newest first")},
        "/api/providers": {"get": _op("each provider's health")},
        "/api/providers/{name}/enable": {"post": _op("clear a pause or disable, as `enable` does", errors=(404,),
                                                     parameters=("name",))},
        "/api/providers/{name}/disable": {"post": _op("give it no job for `hours` (a year when left out)", body={
            "type": "object", "properties": {"hours": {"type": "number", "exclusiveMinimum": 0}}},
            errors=(400, 404), parameters=("name",))},
        "/metrics": {"get": _op("Prometheus' text format", {"description": "metrics", "content": {
            "text/plain": {"schema": {"type": "string"}}}})},
        "/videos/{account}/{name}": {"get": _op("a delivered video, with range requests", {
            "description": "the MP4", "content": {"video/mp4": {"schema": {"type": "string", "format": "binary"}}}},
            errors=(404,), parameters=("account", "name"))},
        "/reports/latest": {"get": _op("the newest HTML report", {"description": "the report", "content": {
            "text/html": {"schema": {"type": "string"}}}}, errors=(404,))},
        "/board": {"get": _op("the dashboard's parts, rendered (what the page reloads)")},
    },
}
