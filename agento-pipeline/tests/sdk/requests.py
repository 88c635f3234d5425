"""Validates recorded requests (the simulator's AGENTO_SIM_RECORD lines) with
the official SDKs' own request types, unknown fields forbidden:

- OpenAI: `CompletionCreateParamsNonStreaming`, or `…Streaming` for a body with
  `stream: true` (openai.types.chat.completion_create_params)
- Anthropic: `MessageCreateParamsNonStreaming`, or `…Streaming` likewise
  (anthropic.types.message_create_params)
- Gemini: google-genai's `Content` and `GenerationConfig` (pydantic models
  with extra='forbid'), and the request's top-level keys.

Usage: requests.py <record.jsonl>
Prints one JSON line per request: {"vendor", "path", "problems": [...]}.
"""

import collections.abc
import json
import sys
import typing

import pydantic
from anthropic.types.message_create_params import (
    MessageCreateParamsNonStreaming,
    MessageCreateParamsStreaming,
)
from google.genai import types as genai_types
from openai.types.chat.completion_create_params import (
    CompletionCreateParamsNonStreaming,
    CompletionCreateParamsStreaming,
)
from typing_extensions import is_typeddict

GEMINI_TOP_LEVEL = {"contents", "systemInstruction", "generationConfig", "safetySettings", "tools", "toolConfig", "cachedContent"}


def forbid_extras(tp, seen):
    """Sets extra='forbid' on every TypedDict reachable from `tp`."""
    if isinstance(tp, type) and is_typeddict(tp):
        if tp in seen:
            return
        seen.add(tp)
        tp.__pydantic_config__ = pydantic.ConfigDict(extra="forbid", arbitrary_types_allowed=True)
        for hint in typing.get_type_hints(tp).values():
            forbid_extras(hint, seen)
        return
    for arg in typing.get_args(tp):
        forbid_extras(arg, seen)


def materialise(value):
    """Consumes pydantic's lazily validated iterables, so that their items are checked too."""
    if isinstance(value, dict):
        return {k: materialise(v) for k, v in value.items()}
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, collections.abc.Iterable):
        return [materialise(v) for v in value]
    return value


def adapter(tp):
    forbid_extras(tp, set())
    return pydantic.TypeAdapter(tp)


OPENAI = adapter(CompletionCreateParamsNonStreaming)
OPENAI_STREAM = adapter(CompletionCreateParamsStreaming)
ANTHROPIC = adapter(MessageCreateParamsNonStreaming)
ANTHROPIC_STREAM = adapter(MessageCreateParamsStreaming)


def typed(adapter_, body):
    try:
        materialise(adapter_.validate_python(body))
        return []
    except pydantic.ValidationError as error:
        return [f"{e['loc']}: {e['msg']}" for e in error.errors()]


def header_problems(headers, needed):
    return [f"missing header {name}" for name in needed if not headers.get(name)]


def check(request):
    path, headers, body = request["path"], request["headers"], request["body"]
    if not isinstance(body, dict):
        return "?", ["the body is not a JSON object"]
    content_type = headers.get("content-type", "")
    problems = [] if content_type.startswith("application/json") else [f"content-type {content_type!r}"]
    if path.endswith("/chat/completions"):
        problems += header_problems(headers, ["authorization"])
        if not headers.get("authorization", "").startswith("Bearer "):
            problems.append("authorization is not a Bearer key")
        return "openai", problems + typed(OPENAI_STREAM if body.get("stream") else OPENAI, body)
    if path.endswith("/v1/messages"):
        problems += header_problems(headers, ["x-api-key", "anthropic-version"])
        return "anthropic", problems + typed(ANTHROPIC_STREAM if body.get("stream") else ANTHROPIC, body)
    if ":generateContent" in path or ":streamGenerateContent" in path:
        problems += header_problems(headers, ["x-goog-api-key"])
        unknown = set(body) - GEMINI_TOP_LEVEL
        if unknown:
            problems.append(f"unknown top-level fields {sorted(unknown)}")
        try:
            for content in body.get("contents", []):
                genai_types.Content.model_validate(content)
            if "systemInstruction" in body:
                genai_types.Content.model_validate(body["systemInstruction"])
            if "generationConfig" in body:
                genai_types.GenerationConfig.model_validate(body["generationConfig"])
        except pydantic.ValidationError as error:
            problems += [f"{e['loc']}: {e['msg']}" for e in error.errors()]
        return "gemini", problems
    return "?", [f"unknown path {path}"]


with open(sys.argv[1], encoding="utf-8") as lines:
    for line in lines:
        request = json.loads(line)
        vendor, problems = check(request)
        print(json.dumps({"vendor": vendor, "path": request["path"], "problems": problems}))
