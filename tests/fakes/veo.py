"""The Gemini API's Veo operations as Google's python-genai SDK speaks them (reference/provider_apis.md §3)."""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aiohttp import web

from tests.fakes.base import RETRY_AFTER_S, FakeApi

MODELS = {"veo-3.1-generate-preview", "veo-3.1-fast-generate-preview", "veo-3.1-lite-generate-preview"}
PARAMETERS = {"sampleCount", "durationSeconds", "aspectRatio", "resolution", "personGeneration", "negativePrompt",
              "enhancePrompt"}


def status_error(code: int, status: str, message: str, details: list[dict[str, Any]] | None = None) -> web.Response:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return web.json_response({"error": error}, status=code)


class FakeVeo(FakeApi):
    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/v1beta/models/{model}:predictLongRunning", self.create)
        router.add_get("/v1beta/models/{model}/operations/{id}", self.operation)
        router.add_get("/v1beta/files/{file}:download", self.file)

    def refused(self, request: web.Request) -> web.Response | None:
        if request.headers.get("x-goog-api-key") != self.accepted_key:
            return status_error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
        return None

    async def create(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        model = request.match_info["model"]
        if model not in MODELS:
            return status_error(404, "NOT_FOUND", f"models/{model} is not found for API version v1beta")
        body: dict[str, Any] = await request.json()
        instances, parameters = body.get("instances"), body.get("parameters", {})
        if not instances or not instances[0].get("prompt") or set(body) - {"instances", "parameters"}:
            return status_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        if set(parameters) - PARAMETERS or parameters.get("aspectRatio") not in ("16:9", "9:16"):
            return status_error(400, "INVALID_ARGUMENT", "Invalid value at 'parameters'")
        if int(parameters.get("durationSeconds", 8)) not in (4, 6, 8):  # the SDK sends an int; proxies a string
            return status_error(400, "INVALID_ARGUMENT", "durationSeconds must be 4, 6 or 8")
        if parameters.get("resolution", "720p") not in ("720p", "1080p", "4k") or \
                (model == "veo-3.1-lite-generate-preview" and parameters.get("resolution") == "4k"):
            return status_error(400, "INVALID_ARGUMENT", "resolution is not supported by the model")
        if parameters.get("resolution") in ("1080p", "4k") and int(parameters.get("durationSeconds", 8)) != 8:
            return status_error(400, "INVALID_ARGUMENT", "1080p and 4k videos must be 8 seconds long")
        if (problem := reference_problem(model, instances[0], parameters)) is not None:
            return status_error(400, "INVALID_ARGUMENT", problem)
        if self.scenario == "rate_limit":
            return status_error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).",
                                [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                  "retryDelay": f"{RETRY_AFTER_S}s"}])
        if self.scenario == "credits":
            return status_error(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your "
                                                           "plan and billing details.")
        if self.scenario == "server_error":
            return status_error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
        task = self.new_task(body, prefix="op")
        name = f"models/{model}/operations/{task.id}"
        if self.scenario == "malformed":
            return web.Response(text=json.dumps({"name": name})[:12], content_type="application/json")
        return web.json_response({"name": name})

    async def operation(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        task = self.polled(request.match_info["id"])
        name = f"models/{request.match_info['model']}/operations/{request.match_info['id']}"
        if task is None:
            return status_error(404, "NOT_FOUND", "Operation not found")
        if task.running(self.scenario):
            return web.json_response({"name": name, "metadata": {}})
        kind = "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse"
        if self.scenario == "moderation":
            answer = {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": [
                "Your prompt may violate our policies. Try rephrasing it."]}
        else:
            link = self.media_link().rsplit("/", 1)[1].removesuffix(".mp4")
            answer = {"generatedSamples": [{"video": {
                "uri": f"{self.url}/v1beta/files/{link}:download?alt=media"}}]}
        return web.json_response({"name": name, "done": True,
                                  "response": {"@type": kind, "generateVideoResponse": answer}})

    async def file(self, request: web.Request) -> web.StreamResponse:
        """The file store: wants the key, then redirects to the bytes (as `curl -L` follows)."""
        if (refusal := self.refused(request)) is not None:
            return refusal
        raise web.HTTPFound(f"/media/{request.match_info['file']}.mp4")


def reference_problem(model: str, instance: dict[str, Any], parameters: dict[str, Any]) -> str | None:
    """What the Gemini API answers 400 to in `referenceImages` (the SDK's VideoGenerationReferenceImage)."""
    if set(instance) - {"prompt", "image", "lastFrame", "referenceImages", "video"}:
        return f"Invalid JSON payload received. Unknown name in instances: {sorted(instance)}"
    references = instance.get("referenceImages")
    if references is None:
        return None
    if model == "veo-3.1-lite-generate-preview":
        return "referenceImages is not supported by this model"
    if not isinstance(references, list) or not 1 <= len(references) <= 3:
        return "referenceImages: 1 to 3 images"
    if int(parameters.get("durationSeconds", 8)) != 8:
        return "videos with reference images must be 8 seconds long"
    for reference in references:
        image = reference.get("image") if isinstance(reference, dict) else None
        if reference.get("referenceType") != "asset" or not isinstance(image, dict) or \
                image.get("mimeType") not in ("image/jpeg", "image/png"):
            return "referenceImages[]: an asset image with a mimeType"
        try:
            base64.b64decode(image.get("bytesBase64Encoded", ""), validate=True)
        except (binascii.Error, ValueError):
            return "referenceImages[].image.bytesBase64Encoded: invalid base64"
    return None
