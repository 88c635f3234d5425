"""The official Python SDKs (openai, anthropic, google-genai) against
`agento simulate`: every reply must parse into the SDK's own response model
with no field the model does not know, and every error mode must raise the
SDK's own exception class.

Usage: clients.py '{"normal": "http://127.0.0.1:N", "fail_a": ..., ...}'
Prints one JSON line per case: {"case", "passed", "detail"}.
"""

import json
import sys
import traceback

import anthropic
import urllib.request
import openai
import pydantic
from anthropic.types import Message
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types
from openai.types.chat import ChatCompletion

URLS = json.loads(sys.argv[1])
PLAN = "[agento:plan]\nGoal: Open a bakery"
DRAFT = "[agento:draft]\nGoal: Open a bakery\nStep: Launch"
OPENAI_MODEL = "gpt-5.5"
ANTHROPIC_MODEL = "claude-sonnet-5-5"
GEMINI_MODEL = "gemini-3.8-flash"
RESULTS = []


class Failed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failed(message)


def unknown_fields(model, path="$"):
    """Fields of a reply that the SDK's (extra='allow') pydantic model does not declare."""
    found = []
    if isinstance(model, pydantic.BaseModel):
        for name in (model.model_extra or {}):
            found.append(f"{path}.{name}")
        for name in type(model).model_fields:
            found += unknown_fields(getattr(model, name), f"{path}.{name}")
    elif isinstance(model, list):
        for i, item in enumerate(model):
            found += unknown_fields(item, f"{path}[{i}]")
    return found


def strict(model_type, raw):
    """Validates raw JSON with the SDK's response model; no unknown fields."""
    model = model_type.model_validate(raw)
    extra = unknown_fields(model)
    check(not extra, f"fields the SDK's {model_type.__name__} does not know: {extra}")
    return model


def case(name):
    def register(function):
        try:
            detail = function() or ""
            RESULTS.append({"case": name, "passed": True, "detail": detail})
        except Exception as error:  # noqa: BLE001 - every failure is reported
            RESULTS.append(
                {
                    "case": name,
                    "passed": False,
                    "detail": f"{type(error).__module__}.{type(error).__name__}: {error}\n"
                    + traceback.format_exc(limit=3),
                }
            )
        return function

    return register


def expect_error(call, cls, status=None):
    try:
        call()
    except cls as error:
        if status is not None:
            got = getattr(error, "status_code", None) or getattr(error, "code", None)
            check(got == status, f"{cls.__name__} with status {got}, expected {status}")
        return error
    except Exception as error:  # noqa: BLE001
        raise Failed(f"raised {type(error).__module__}.{type(error).__name__}, expected {cls.__module__}.{cls.__name__}: {error}")
    raise Failed(f"no exception, expected {cls.__name__}")


def oai(url, **options):
    return openai.OpenAI(base_url=f"{url}/v1", api_key="sk-test-dummy", **options)


def claude(url, **options):
    options.setdefault("api_key", "sk-ant-test-dummy")
    return anthropic.Anthropic(base_url=url, **options)


CLIENTS = []


def gemini(url, version=None):
    options = genai_types.HttpOptions(base_url=url, api_version=version) if version else genai_types.HttpOptions(base_url=url)
    client = genai.Client(api_key="gemini-test-dummy", http_options=options)
    CLIENTS.append(client)  # a dropped Client closes its connection pool
    return client


def openai_chat(client, **extra):
    return client.chat.completions.with_raw_response.create(
        model=OPENAI_MODEL,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": DRAFT}],
        max_completion_tokens=4096,
        **extra,
    )


def anthropic_message(client, **extra):
    return client.messages.with_raw_response.create(
        model=ANTHROPIC_MODEL,
        max_tokens=4096,
        system="Be brief.",
        messages=[{"role": "user", "content": DRAFT}],
        **extra,
    )


def gemini_raw(url, version, body):
    """The raw JSON of a generateContent answer (the SDK drops unknown fields itself)."""
    request = urllib.request.Request(
        f"{url}/{version}/models/{GEMINI_MODEL}:generateContent",
        data=json.dumps(body).encode(),
        headers={"x-goog-api-key": "gemini-test-dummy", "content-type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


# --- a well-behaved simulator, SDK defaults ---------------------------------


@case("openai: chat completion parses into ChatCompletion")
def _():
    raw = openai_chat(oai(URLS["normal"]))
    completion = raw.parse()
    strict(ChatCompletion, raw.http_response.json())
    usage = completion.usage
    check(usage.total_tokens == usage.prompt_tokens + usage.completion_tokens, f"usage {usage}")
    check(completion.choices[0].finish_reason == "stop", completion.choices[0].finish_reason)
    check(completion.service_tier == "default", f"service_tier {completion.service_tier}")
    check(raw.headers.get("x-request-id"), "no x-request-id header")
    return f"{completion.model}, {usage.total_tokens} tokens"


@case("anthropic: message parses into Message (api_key: the SDK sends it as Authorization: Bearer)")
def _():
    raw = anthropic_message(claude(URLS["normal"]))
    message = raw.parse()
    strict(Message, raw.http_response.json())
    check(message.stop_reason == "end_turn", message.stop_reason)
    check(message.content[0].type == "text" and message.content[0].text, "no text block")
    check(raw.headers.get("request-id"), "no request-id header")
    return f"{message.model}, {message.usage.output_tokens} output tokens"


@case("anthropic: auth_token (Authorization: Bearer) is accepted")
def _():
    message = anthropic_message(claude(URLS["normal"], api_key=None, auth_token="tok-dummy")).parse()
    check(message.content[0].text, "no text")


@case("google-genai: generate_content on the default API version (v1)")
def _():
    response = gemini(URLS["normal"]).models.generate_content(model=GEMINI_MODEL, contents=DRAFT)
    check(response.text, "no text")
    usage = response.usage_metadata
    check(usage.thoughts_token_count is not None, "no thoughtsTokenCount")
    check(usage.prompt_tokens_details and usage.prompt_tokens_details[0].token_count == usage.prompt_token_count, "no promptTokensDetails")
    check(response.candidates[0].finish_reason == genai_types.FinishReason.STOP, str(response.candidates[0].finish_reason))
    genai_types.GenerateContentResponse.model_validate(
        gemini_raw(URLS["normal"], "v1", {"contents": [{"role": "user", "parts": [{"text": DRAFT}]}]})
    )
    return f"{response.model_version}, {usage.total_token_count} tokens"


@case("google-genai: generate_content on v1beta")
def _():
    response = gemini(URLS["normal"], "v1beta").models.generate_content(model=GEMINI_MODEL, contents=DRAFT)
    check(response.text, "no text")


@case("google-genai: JSON mode answers pure JSON")
def _():
    config = genai_types.GenerateContentConfig(
        response_mime_type="application/json",
        response_json_schema={"type": "object", "properties": {"Title": {"type": "string"}}},
    )
    response = gemini(URLS["normal"]).models.generate_content(model=GEMINI_MODEL, contents=PLAN, config=config)
    plan = json.loads(response.text)
    check(plan["Original_Goal"] == "Open a bakery", str(plan))


@case("google-genai: without JSON mode the plan stays wrapped in prose")
def _():
    response = gemini(URLS["normal"]).models.generate_content(model=GEMINI_MODEL, contents=PLAN)
    check("```json" in response.text, response.text[:80])
    try:
        json.loads(response.text)
    except json.JSONDecodeError:
        return
    raise Failed("the prose-wrapped reply parsed as JSON")


# --- streamed answers, parsed by the SDKs' own stream readers ------------------


@case("openai: a streamed completion parses chunk by chunk and assembles the whole reply")
def _():
    client = oai(URLS["normal"])
    whole = openai_chat(client).parse().choices[0].message.content
    stream = client.chat.completions.create(
        model=OPENAI_MODEL,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": DRAFT}],
        max_completion_tokens=4096,
        stream=True,
        stream_options={"include_usage": True},
    )
    text, finish, usage, chunks = "", None, None, 0
    for chunk in stream:
        chunks += 1
        extra = unknown_fields(chunk)
        check(not extra, f"fields ChatCompletionChunk does not know: {extra}")
        for choice in chunk.choices:
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
        usage = chunk.usage or usage
    check(text == whole, "the streamed text differs from the whole reply")
    check(finish == "stop", f"finish_reason {finish}")
    check(usage is not None and usage.completion_tokens > 0, f"usage {usage}")
    return f"{chunks} chunks, {usage.total_tokens} tokens"


@case("anthropic: a streamed message parses event by event into the whole Message")
def _():
    client = claude(URLS["normal"])
    whole = anthropic_message(client).parse().content[0].text
    with client.messages.stream(
        model=ANTHROPIC_MODEL,
        max_tokens=4096,
        system="Be brief.",
        messages=[{"role": "user", "content": DRAFT}],
    ) as stream:
        events = 0
        for event in stream:
            events += 1
            extra = unknown_fields(event)
            check(not extra, f"fields of {type(event).__name__} the SDK does not know: {extra}")
        message = stream.get_final_message()
    check(message.content[0].text == whole, "the streamed text differs from the whole reply")
    check(message.stop_reason == "end_turn", message.stop_reason)
    check(message.usage.output_tokens > 0, f"usage {message.usage}")
    return f"{events} events, {message.usage.output_tokens} output tokens"


@case("google-genai: generate_content_stream assembles the whole reply")
def _():
    client = gemini(URLS["normal"])
    whole = client.models.generate_content(model=GEMINI_MODEL, contents=DRAFT).text
    text, last, pieces = "", None, 0
    for response in client.models.generate_content_stream(model=GEMINI_MODEL, contents=DRAFT):
        pieces += 1
        text += response.text or ""
        last = response
    check(text == whole, "the streamed text differs from the whole reply")
    check(last.candidates[0].finish_reason == genai_types.FinishReason.STOP, str(last.candidates[0].finish_reason))
    check(last.usage_metadata and last.usage_metadata.total_token_count, "no usage in the last chunk")
    return f"{pieces} chunks, {last.usage_metadata.total_token_count} tokens"


@case("openai: an unknown path is a NotFoundError in OpenAI's shape")
def _():
    client = openai.OpenAI(base_url=f"{URLS['normal']}/v9", api_key="sk-test-dummy", max_retries=0)
    error = expect_error(lambda: client.chat.completions.create(model=OPENAI_MODEL, messages=[{"role": "user", "content": "hi"}]), openai.NotFoundError, 404)
    check(error.body and "message" in error.body, f"body {error.body}")


@case("anthropic: an unknown path is a NotFoundError in Anthropic's shape")
def _():
    client = claude(URLS["normal"], max_retries=0)
    error = expect_error(lambda: client.models.retrieve("claude-sonnet-5-5"), anthropic.NotFoundError, 404)
    check(error.body["error"]["type"] == "not_found_error", f"body {error.body}")


@case("google-genai: an unknown method is a ClientError 404 in Google's shape")
def _():
    error = expect_error(lambda: gemini(URLS["normal"]).models.count_tokens(model=GEMINI_MODEL, contents="hi"), genai_errors.ClientError, 404)
    check(error.status == "NOT_FOUND", f"status {error.status}")


# --- injected failures ---------------------------------------------------------


@case("openai: 429 is RateLimitError with retry-after")
def _():
    error = expect_error(lambda: openai_chat(oai(URLS["fail_a"], max_retries=0)), openai.RateLimitError, 429)
    check(error.response.headers.get("retry-after") == "2", f"headers {dict(error.response.headers)}")


@case("anthropic: 529 is OverloadedError (an InternalServerError)")
def _():
    error = expect_error(lambda: anthropic_message(claude(URLS["fail_a"], max_retries=0)), anthropic.OverloadedError, 529)
    check(isinstance(error, anthropic.InternalServerError), "not an InternalServerError")
    check(error.body["error"]["type"] == "overloaded_error", f"body {error.body}")


@case("google-genai: 429 is ClientError with RetryInfo retryDelay")
def _():
    error = expect_error(lambda: gemini(URLS["fail_a"]).models.generate_content(model=GEMINI_MODEL, contents=DRAFT), genai_errors.ClientError, 429)
    details = error.details["error"]["details"]
    delays = [d.get("retryDelay") for d in details if d.get("@type", "").endswith("google.rpc.RetryInfo")]
    check(delays == ["2s"], f"details {details}")
    check(error.status == "RESOURCE_EXHAUSTED", error.status)


@case("openai: 500 is InternalServerError")
def _():
    expect_error(lambda: openai_chat(oai(URLS["fail_b"], max_retries=0)), openai.InternalServerError, 500)


@case("anthropic: 429 is RateLimitError")
def _():
    error = expect_error(lambda: anthropic_message(claude(URLS["fail_b"], max_retries=0)), anthropic.RateLimitError, 429)
    check(error.body["error"]["type"] == "rate_limit_error", f"body {error.body}")


@case("google-genai: 503 is ServerError")
def _():
    error = expect_error(lambda: gemini(URLS["fail_b"]).models.generate_content(model=GEMINI_MODEL, contents=DRAFT), genai_errors.ServerError, 503)
    check(error.status == "UNAVAILABLE", error.status)


# --- blocked, safety, cut-off, unsupported temperature --------------------------


@case("google-genai: a blocked prompt has promptFeedback.blockReason and no candidates")
def _():
    response = gemini(URLS["blocked"]).models.generate_content(model=GEMINI_MODEL, contents=DRAFT)
    check(response.prompt_feedback.block_reason == genai_types.BlockedReason.PROHIBITED_CONTENT, str(response.prompt_feedback))
    check(not response.candidates, "candidates present")
    check(response.usage_metadata.prompt_token_count > 0, "no usage")


@case("openai: a filtered answer finishes with content_filter")
def _():
    raw = openai_chat(oai(URLS["blocked"]))
    strict(ChatCompletion, raw.http_response.json())
    check(raw.parse().choices[0].finish_reason == "content_filter", "finish")


@case("anthropic: a refused answer stops with refusal")
def _():
    raw = anthropic_message(claude(URLS["blocked"]))
    strict(Message, raw.http_response.json())
    check(raw.parse().stop_reason == "refusal", "stop_reason")


@case("google-genai: a safety stop has finishReason SAFETY and no parts")
def _():
    response = gemini(URLS["safety"]).models.generate_content(model=GEMINI_MODEL, contents=DRAFT)
    candidate = response.candidates[0]
    check(candidate.finish_reason == genai_types.FinishReason.SAFETY, str(candidate.finish_reason))
    check(candidate.content is None, "content present")
    check(candidate.safety_ratings and candidate.safety_ratings[0].blocked, "no blocked safety rating")


@case("openai: a cut-off answer finishes with length")
def _():
    check(openai_chat(oai(URLS["cut"])).parse().choices[0].finish_reason == "length", "finish")


@case("anthropic: a cut-off answer stops with max_tokens")
def _():
    check(anthropic_message(claude(URLS["cut"])).parse().stop_reason == "max_tokens", "stop_reason")


@case("google-genai: a cut-off answer finishes with MAX_TOKENS")
def _():
    response = gemini(URLS["cut"]).models.generate_content(model=GEMINI_MODEL, contents=DRAFT)
    check(response.candidates[0].finish_reason == genai_types.FinishReason.MAX_TOKENS, str(response.candidates[0].finish_reason))
    check(response.text, "no partial text")


@case("openai: temperature on a model that rejects it is BadRequestError naming the param")
def _():
    error = expect_error(lambda: openai_chat(oai(URLS["blocked"], max_retries=0), temperature=0.5), openai.BadRequestError, 400)
    check(error.body["param"] == "temperature" and error.body["code"] == "unsupported_parameter", f"body {error.body}")


@case("anthropic: temperature on a model that rejects it is BadRequestError")
def _():
    error = expect_error(
        lambda: anthropic_message(claude(URLS["blocked"], max_retries=0), extra_body={"temperature": 0.5}),
        anthropic.BadRequestError,
        400,
    )
    check("temperature" in error.body["error"]["message"], f"body {error.body}")


@case("google-genai: temperature on a model that rejects it is ClientError 400")
def _():
    config = genai_types.GenerateContentConfig(temperature=0.5)
    error = expect_error(
        lambda: gemini(URLS["blocked"]).models.generate_content(model=GEMINI_MODEL, contents=DRAFT, config=config),
        genai_errors.ClientError,
        400,
    )
    check(error.status == "INVALID_ARGUMENT" and "temperature" in error.message, f"{error.status} {error.message}")


for result in RESULTS:
    print(json.dumps(result))
