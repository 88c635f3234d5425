//! The three vendor clients over real HTTP on loopback, against the offline
//! simulator (and, for a vendor echoing the key, a two-line axum server):
//! parsing, error mapping, retryability, Retry-After, timeouts, key hygiene
//! and `.env` loading.

use std::time::Duration;

use agento::{ErrorInfo, LlmResponse, retry_spans};
use agento_pipeline::simulator::{Failure, VendorBehaviour};
use agento_pipeline::vendors::{
    AnthropicClient, ChatRequest, GeminiClient, OpenAiClient, Reply, Usage, Vendor, VendorConfig,
    VendorError, Vendors, VendorsConfig,
};

mod support_vendors;
use support_vendors::{KEY, PLAN, config, simulator, vendors_at};

/// The error of a call that must fail.
async fn failure(vendors: &Vendors, vendor: Vendor, request: &ChatRequest<'_>) -> VendorError {
    match vendors.chat(vendor, request).await {
        Ok(reply) => panic!("{vendor} answered instead of failing: {reply:?}"),
        Err(error) => error,
    }
}

fn assert_no_key(error: &VendorError) {
    let shown = format!("{error} | {error:?}");
    assert!(!shown.contains(KEY), "the key leaks: {shown}");
}

/// The raw JSON the simulator answers for `request` of `vendor`, to compare
/// the clients' parsing against.
async fn raw(base_url: &str, vendor: Vendor, prompt: &str) -> serde_json::Value {
    let http = reqwest::Client::new();
    let request = match vendor {
        Vendor::Gemini => {
            http.post(format!(
                "{base_url}/v1beta/models/gemini-2.5-pro:generateContent"
            ))
            .header("x-goog-api-key", KEY)
            .json(&serde_json::json!({"contents": [{"role": "user", "parts": [{"text": prompt}]}]}))
        }
        Vendor::OpenAi => http
            .post(format!("{base_url}/v1/chat/completions"))
            .bearer_auth(KEY)
            .json(&serde_json::json!({"model": "gpt-4.1",
                "messages": [{"role": "user", "content": prompt}]})),
        Vendor::Anthropic => http
            .post(format!("{base_url}/v1/messages"))
            .header("x-api-key", KEY)
            .header("anthropic-version", "2023-06-01")
            .json(
                &serde_json::json!({"model": "claude-sonnet-4-5", "max_tokens": 4096,
                "messages": [{"role": "user", "content": prompt}]}),
            ),
    };
    request.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn each_client_parses_text_usage_finish_reasons_model_and_id() {
    let sim = simulator(VendorBehaviour::default()).await;
    let vendors = vendors_at(&sim.base_url(), Duration::from_secs(10));
    let request = ChatRequest {
        system: Some("You are a planner."),
        prompt: PLAN,
        temperature: Some(0.1),
        max_tokens: None,
        json_schema: None,
    };
    let mut texts = Vec::new();
    for vendor in Vendor::ALL {
        let reply = vendors.chat(vendor, &request).await.unwrap();
        let json = raw(&sim.base_url(), vendor, PLAN).await;
        let (text, input, output, model, finish, id_prefix) = match vendor {
            Vendor::Gemini => (
                &json["candidates"][0]["content"]["parts"][0]["text"],
                &json["usageMetadata"]["promptTokenCount"],
                &json["usageMetadata"]["candidatesTokenCount"],
                "gemini-2.5-pro",
                "STOP",
                "sim-gemini-",
            ),
            Vendor::OpenAi => (
                &json["choices"][0]["message"]["content"],
                &json["usage"]["prompt_tokens"],
                &json["usage"]["completion_tokens"],
                "gpt-4.1-2025-04-14",
                "stop",
                "chatcmpl-",
            ),
            Vendor::Anthropic => (
                &json["content"][0]["text"],
                &json["usage"]["input_tokens"],
                &json["usage"]["output_tokens"],
                "claude-sonnet-4-5-20250929",
                "end_turn",
                "msg_",
            ),
        };
        assert_eq!(reply.vendor, vendor);
        assert_eq!(reply.text(), text.as_str().unwrap(), "{vendor}");
        assert!(
            reply
                .text()
                .contains("\"Original_Goal\": \"Open a bakery\"")
        );
        let usage = reply.usage().expect("usage");
        assert_eq!(usage.input_tokens(), input.as_u64(), "{vendor}");
        let thoughts = json["usageMetadata"]["thoughtsTokenCount"]
            .as_u64()
            .unwrap_or(0);
        assert_eq!(
            usage.output_tokens(),
            output.as_u64().map(|n| n + thoughts),
            "{vendor}: Gemini's thinking tokens are output tokens"
        );
        assert!(
            usage.output_tokens().unwrap() > 50,
            "{vendor}: plausible counts"
        );
        assert_eq!(
            reply.response_model(),
            Some(model),
            "the model the vendor named"
        );
        assert_eq!(reply.finish_reasons(), [finish]);
        assert!(
            reply.response_id().unwrap().starts_with(id_prefix),
            "{vendor}: {:?}",
            reply.id
        );
        assert!(matches!(
            (vendor, &reply.usage),
            (Vendor::Gemini, Usage::Gemini(_))
                | (Vendor::OpenAi, Usage::OpenAi(_))
                | (Vendor::Anthropic, Usage::Anthropic(_))
        ));
        texts.push(reply.text);
    }
    assert!(
        texts.windows(2).all(|w| w[0] == w[1]),
        "same prompt, same content"
    );
    assert_eq!(sim.calls().gemini.rejected, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn max_tokens_stops_with_each_vendors_own_finish_reason() {
    let sim = simulator(VendorBehaviour::default()).await;
    let vendors = vendors_at(&sim.base_url(), Duration::from_secs(10));
    let request = ChatRequest {
        max_tokens: Some(12),
        ..ChatRequest::new(PLAN)
    };
    for (vendor, reason) in [
        (Vendor::Gemini, "MAX_TOKENS"),
        (Vendor::OpenAi, "length"),
        (Vendor::Anthropic, "max_tokens"),
    ] {
        let reply = vendors.chat(vendor, &request).await.unwrap();
        assert_eq!(reply.finish_reasons, [reason]);
        assert_eq!(reply.usage().unwrap().output_tokens(), Some(12));
        assert!(reply.text.split_whitespace().count() <= 9, "{}", reply.text);
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_429_is_retryable_and_carries_the_retry_after_delay() {
    let sim = simulator(VendorBehaviour {
        fail_first: 1,
        failure: Failure::RateLimited {
            retry_after_secs: 7,
        },
        ..VendorBehaviour::default()
    })
    .await;
    let vendors = vendors_at(&sim.base_url(), Duration::from_secs(10));
    for vendor in Vendor::ALL {
        let error = failure(&vendors, vendor, &ChatRequest::new(PLAN)).await;
        let VendorError::Http {
            vendor: named,
            status: 429,
            retry_after: Some(delay),
            message,
        } = &error
        else {
            panic!("{vendor}: {error:?}");
        };
        assert_eq!(*named, vendor);
        assert_eq!(*delay, Duration::from_secs(7));
        let expected = if vendor == Vendor::Gemini {
            // Gemini's message names the delay; RetryInfo carries it.
            "rate limit reached, retry after the given delay Please retry in 7s."
        } else {
            "rate limit reached, retry after the given delay"
        };
        assert_eq!(message, expected, "the vendor's own message");
        assert!(error.is_retryable());
        assert_eq!(error.error_type(), "http.429");
        assert_eq!(ErrorInfo::retry_after(&error), Some(Duration::from_secs(7)));
        assert_eq!(
            error.to_string(),
            format!("{vendor} answered HTTP 429: {message}")
        );
        assert_no_key(&error);
        assert!(
            vendors.chat(vendor, &ChatRequest::new(PLAN)).await.is_ok(),
            "{vendor}: the next call goes through"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn server_errors_503_and_500_are_retryable() {
    for (failure_kind, status) in [(Failure::Unavailable, 503), (Failure::ServerError, 500)] {
        let sim = simulator(VendorBehaviour {
            fail_always: true,
            failure: failure_kind,
            ..VendorBehaviour::default()
        })
        .await;
        let vendors = vendors_at(&sim.base_url(), Duration::from_secs(10));
        for vendor in Vendor::ALL {
            let error = failure(&vendors, vendor, &ChatRequest::new(PLAN)).await;
            assert!(
                matches!(&error, VendorError::Http { status: s, retry_after: None, .. } if *s == status),
                "{error:?}"
            );
            assert!(error.is_retryable());
            assert_eq!(error.error_type(), format!("http.{status}"));
            assert!(error.to_string().contains(&vendor.to_string()));
        }
        assert_eq!(sim.calls().anthropic.failed, 1);
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn a_400_is_not_retryable_and_names_the_vendor_status_and_message() {
    let sim = simulator(VendorBehaviour::default()).await;
    let vendors = vendors_at(&sim.base_url(), Duration::from_secs(10));
    let too_hot = ChatRequest {
        temperature: Some(5.0),
        ..ChatRequest::new(PLAN)
    };
    for (vendor, field) in [
        (Vendor::Gemini, "generationConfig.temperature"),
        (Vendor::OpenAi, "temperature"),
        (Vendor::Anthropic, "temperature"),
    ] {
        let error = failure(&vendors, vendor, &too_hot).await;
        assert!(
            matches!(error, VendorError::Http { status: 400, .. }),
            "{error:?}"
        );
        assert!(!error.is_retryable());
        assert_eq!(error.error_type(), "http.400");
        assert_eq!(
            error.to_string(),
            format!(
                "{vendor} answered HTTP 400: {field}: must be a number between 0 and {}, got 5.0",
                if vendor == Vendor::Anthropic {
                    "1"
                } else {
                    "2"
                }
            ),
        );
        assert_no_key(&error);
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn malformed_json_is_a_decode_error() {
    let sim = simulator(VendorBehaviour {
        malformed_json: true,
        ..VendorBehaviour::default()
    })
    .await;
    let vendors = vendors_at(&sim.base_url(), Duration::from_secs(10));
    for vendor in Vendor::ALL {
        let error = failure(&vendors, vendor, &ChatRequest::new(PLAN)).await;
        let VendorError::Decode {
            vendor: named,
            message,
        } = &error
        else {
            panic!("{vendor}: {error:?}");
        };
        assert_eq!(*named, vendor);
        assert!(message.contains("EOF"), "{message}");
        assert!(!error.is_retryable());
        assert_eq!(error.error_type(), "decode");
        assert_no_key(&error);
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_slow_vendor_is_a_timeout_error() {
    let sim = simulator(VendorBehaviour {
        latency: Duration::from_millis(400),
        ..VendorBehaviour::default()
    })
    .await;
    let vendors = vendors_at(&sim.base_url(), Duration::from_millis(50));
    for vendor in Vendor::ALL {
        let error = failure(&vendors, vendor, &ChatRequest::new(PLAN)).await;
        assert_eq!(
            error,
            VendorError::Timeout {
                vendor,
                timeout: Duration::from_millis(50)
            }
        );
        assert!(error.is_retryable());
        assert_eq!(error.error_type(), "timeout");
        assert_eq!(
            error.to_string(),
            format!("{vendor} did not answer within 0.05s")
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_40_kb_reply_parses() {
    let sim = simulator(VendorBehaviour {
        huge_reply_bytes: Some(40_000),
        ..VendorBehaviour::default()
    })
    .await;
    let vendors = vendors_at(&sim.base_url(), Duration::from_secs(10));
    // Huge mode pads past any token limit (a misbehaving server); the
    // reply bound, not max_tokens, is what stops a reply that is too big.
    let request = ChatRequest {
        max_tokens: Some(32_000),
        ..ChatRequest::new(PLAN)
    };
    for (vendor, finish) in [
        (Vendor::Gemini, "STOP"),
        (Vendor::OpenAi, "stop"),
        (Vendor::Anthropic, "end_turn"),
    ] {
        let reply = vendors.chat(vendor, &request).await.unwrap();
        assert!(reply.text.len() >= 40_000, "{vendor}: {}", reply.text.len());
        assert!(reply.text.starts_with("Here is the plan structure"));
        assert!(reply.usage().unwrap().output_tokens().unwrap() > 5_000);
        assert_eq!(reply.finish_reasons, [finish]);
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_vendor_is_a_retryable_connect_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let vendors = vendors_at(&closed, Duration::from_secs(5));
    for vendor in Vendor::ALL {
        let error = failure(&vendors, vendor, &ChatRequest::new(PLAN)).await;
        assert!(matches!(error, VendorError::Connect { .. }), "{error:?}");
        assert!(error.is_retryable());
        assert_eq!(error.error_type(), "connect");
        assert!(
            error
                .to_string()
                .starts_with(&format!("cannot reach {vendor}: "))
        );
        assert_no_key(&error);
    }
}

#[tokio::test]
async fn a_missing_key_fails_at_the_call_without_sending_anything() {
    let sim = simulator(VendorBehaviour::default()).await;
    let url = sim.base_url();
    let keyless = |vendor| VendorConfig {
        api_key: None,
        ..config(&url, vendor, Duration::from_secs(5))
    };
    let gemini = GeminiClient::new(keyless(Vendor::Gemini)).expect("built without a key");
    let openai = OpenAiClient::new(keyless(Vendor::OpenAi)).unwrap();
    let anthropic = AnthropicClient::new(keyless(Vendor::Anthropic)).unwrap();
    let request = ChatRequest::new(PLAN);
    let errors = [
        gemini.chat(&request).await.unwrap_err(),
        openai.chat(&request).await.unwrap_err(),
        anthropic.chat(&request).await.unwrap_err(),
    ];
    for (error, (vendor, var)) in errors.iter().zip([
        (Vendor::Gemini, "GEMINI_API_KEY"),
        (Vendor::OpenAi, "OPENAI_API_KEY"),
        (Vendor::Anthropic, "ANTHROPIC_API_KEY"),
    ]) {
        assert_eq!(*error, VendorError::MissingKey { vendor, var });
        assert_eq!(error.error_type(), "missing_key");
        assert!(!error.is_retryable());
        assert_eq!(
            error.to_string(),
            format!("{vendor} needs an API key: set {var} (or run with --offline)")
        );
    }
    assert_eq!(gemini.model(), "gemini-2.5-pro");
    let calls = sim.calls();
    assert_eq!(
        calls.gemini.requests + calls.openai.requests + calls.anthropic.requests,
        0
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_simulator_checks_each_vendors_required_headers() {
    let sim = simulator(VendorBehaviour::default()).await;
    let url = sim.base_url();
    let http = reqwest::Client::new();
    let body = serde_json::json!({"model": "m", "max_tokens": 10,
        "contents": [{"parts": [{"text": "hi"}]}], "messages": [{"role": "user", "content": "hi"}]});
    let send = |request: reqwest::RequestBuilder| {
        let body = body.clone();
        async move {
            let response = request.json(&body).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    };
    let gemini = format!("{url}/v1beta/models/gemini-2.5-pro:generateContent");
    let (status, json) = send(http.post(&gemini)).await;
    assert_eq!(status, 401);
    assert_eq!(json["error"]["code"], 401);
    assert_eq!(json["error"]["status"], "UNAUTHENTICATED");
    assert_eq!(
        send(http.post(&gemini).header("x-goog-api-key", KEY))
            .await
            .0,
        200
    );

    let openai = format!("{url}/v1/chat/completions");
    let (status, json) = send(http.post(&openai).header("x-api-key", KEY)).await;
    assert_eq!(status, 401);
    assert_eq!(json["error"]["code"], "invalid_api_key");
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Bearer")
    );
    assert_eq!(send(http.post(&openai).bearer_auth(KEY)).await.0, 200);

    let anthropic = format!("{url}/v1/messages");
    let (status, json) = send(http.post(&anthropic)).await;
    assert_eq!(status, 401);
    assert_eq!(json["type"], "error");
    assert_eq!(json["error"]["type"], "authentication_error");
    let bearer = http
        .post(&anthropic)
        .bearer_auth(KEY)
        .header("anthropic-version", "2026-10-21");
    assert_eq!(
        send(bearer).await.0,
        200,
        "the anthropic SDK's auth_token sends a Bearer key, with any version"
    );
    let (status, json) = send(http.post(&anthropic).header("x-api-key", KEY)).await;
    assert_eq!(status, 400, "anthropic-version is required too");
    assert_eq!(
        json["error"]["message"],
        "anthropic-version: header is required"
    );
    let both = http
        .post(&anthropic)
        .header("x-api-key", KEY)
        .header("anthropic-version", "2023-06-01");
    assert_eq!(send(both).await.0, 200);

    // The clients got through, so they sent what each vendor requires.
    let vendors = vendors_at(&url, Duration::from_secs(5));
    for vendor in Vendor::ALL {
        vendors
            .chat(vendor, &ChatRequest::new("hello"))
            .await
            .unwrap();
    }
    let calls = sim.calls();
    assert_eq!(
        (
            calls.gemini.rejected,
            calls.openai.rejected,
            calls.anthropic.rejected
        ),
        (1, 1, 2)
    );
    sim.shutdown().await;
}

/// A vendor that echoes the key in its error message, as "invalid key"
/// answers sometimes do.
async fn echoing_vendor() -> String {
    use axum::http::{HeaderMap, StatusCode};
    async fn echo(headers: HeaderMap) -> (StatusCode, axum::Json<serde_json::Value>) {
        let sent: Vec<String> = ["x-goog-api-key", "authorization", "x-api-key"]
            .iter()
            .filter_map(|name| headers.get(*name)?.to_str().ok().map(str::to_owned))
            .collect();
        let message = format!("Incorrect API key provided: {}", sent.join(","));
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({"error": {"message": message}})),
        )
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let app = axum::Router::new().fallback(echo);
        axum::serve(listener, app).await.unwrap();
    });
    url
}

#[tokio::test]
async fn the_key_never_appears_in_an_error_or_a_debug_print() {
    let url = echoing_vendor().await;
    let vendors = vendors_at(&url, Duration::from_secs(5));
    for vendor in Vendor::ALL {
        let error = failure(&vendors, vendor, &ChatRequest::new(PLAN)).await;
        let VendorError::Http {
            status: 401,
            message,
            ..
        } = &error
        else {
            panic!("{error:?}");
        };
        assert!(
            message.starts_with("Incorrect API key provided: "),
            "{message}"
        );
        assert!(message.contains("[REDACTED]"), "{message}");
        assert_no_key(&error);
    }
    let shown = format!("{vendors:?}");
    assert!(
        shown.contains("[REDACTED]") && !shown.contains(KEY),
        "{shown}"
    );
}

#[tokio::test]
async fn retry_spans_retries_server_errors_and_stops_at_a_400() {
    #[retry_spans(max = 3, backoff = "none", retry_if = VendorError::is_retryable)]
    async fn ask(client: &OpenAiClient, prompt: &str) -> Result<Reply, VendorError> {
        client.chat(&ChatRequest::new(prompt)).await
    }
    let flaky = simulator(VendorBehaviour {
        fail_first: 2,
        failure: Failure::Unavailable,
        ..VendorBehaviour::default()
    })
    .await;
    let client = vendors_at(&flaky.base_url(), Duration::from_secs(5)).openai;
    let reply = ask(&client, PLAN)
        .await
        .expect("the third attempt succeeds");
    assert_eq!(reply.finish_reasons, ["stop"]);
    assert_eq!(flaky.calls().openai.requests, 3);
    assert_eq!(flaky.calls().openai.failed, 2);
    flaky.shutdown().await;

    let refusing = simulator(VendorBehaviour {
        fail_always: true,
        failure: Failure::BadRequest,
        ..VendorBehaviour::default()
    })
    .await;
    let client = vendors_at(&refusing.base_url(), Duration::from_secs(5)).openai;
    let error = ask(&client, PLAN).await.unwrap_err();
    assert!(matches!(error, VendorError::Http { status: 400, .. }));
    assert_eq!(refusing.calls().openai.requests, 1, "a 400 is not retried");
    refusing.shutdown().await;
}

/// Marks the child process of
/// [`dot_env_fills_in_but_never_overrides_the_environment`].
const CHILD: &str = "AGENTO_TEST_DOTENV_CHILD";

#[test]
fn dot_env_fills_in_but_never_overrides_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "OPENAI_MODEL=model-from-file\nGEMINI_MODEL=gemini-from-file\n\
         ANTHROPIC_API_KEY=file-key-abcdef123\nOPENAI_API_KEY=file-key-must-lose\n",
    )
    .unwrap();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "dot_env_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .current_dir(dir.path())
        .env(CHILD, "1")
        .env("OPENAI_MODEL", "model-from-env")
        .env("OPENAI_API_KEY", "env-key-wins-123")
        .env_remove("GEMINI_MODEL")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("ANTHROPIC_BASE_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("1 passed"), "the child ran: {stdout}");
}

/// Runs only as the child of the test above, in a directory with a `.env`.
#[test]
fn dot_env_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let config = VendorsConfig::from_env().unwrap();
    assert_eq!(
        config.openai.model, "model-from-env",
        "the environment wins"
    );
    assert_eq!(config.openai.api_key.as_deref(), Some("env-key-wins-123"));
    assert_eq!(config.gemini.model, "gemini-from-file", "the file fills in");
    assert_eq!(
        config.anthropic.api_key.as_deref(),
        Some("file-key-abcdef123")
    );
    assert_eq!(config.anthropic.base_url, "https://api.anthropic.com");
    assert_eq!(
        agento::secrets::scrub("key file-key-abcdef123"),
        "key [REDACTED]",
        "keys from the file are registered with the scrubber"
    );
    assert!(!format!("{config:?}").contains("file-key-abcdef123"));
}

/// A vendor that answers every request with `chunks` chunks of 64 KiB in a
/// chunked body (no `Content-Length`), counting the bytes it got to send.
async fn streaming_vendor(
    chunks: usize,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&sent);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let counter = std::sync::Arc::clone(&counter);
            tokio::spawn(async move {
                let mut request = vec![0u8; 16 * 1024];
                let _ = stream.read(&mut request).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 64 * 1024];
                for _ in 0..chunks {
                    let frame =
                        [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
                    if stream.write_all(&frame).await.is_err() {
                        return;
                    }
                    counter.fetch_add(chunk.len(), std::sync::atomic::Ordering::Relaxed);
                }
                let _ = stream.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    (url, sent)
}

#[tokio::test]
async fn a_streamed_reply_over_the_bound_is_refused_without_reading_it_all() {
    // 64 MiB offered as a chunked stream; the bound is 1 MiB.
    let (url, sent) = streaming_vendor(1024).await;
    let client = OpenAiClient::new(VendorConfig {
        max_reply_bytes: 1024 * 1024,
        ..config(&url, Vendor::OpenAi, Duration::from_secs(10))
    })
    .unwrap();
    let error = client.chat(&ChatRequest::new("hi")).await.unwrap_err();
    assert_eq!(
        error,
        VendorError::TooLarge {
            vendor: Vendor::OpenAi,
            limit: 1024 * 1024
        }
    );
    assert_eq!(
        error.to_string(),
        "OpenAI sent a reply larger than AGENTO_MAX_REPLY_BYTES=1048576 bytes; reading stopped at the limit"
    );
    assert!(!error.is_retryable());
    assert_eq!(error.error_type(), "reply_too_large");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let offered = sent.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        offered < 16 * 1024 * 1024,
        "the client stopped reading: the server could send only {offered} of 64 MiB"
    );
}

#[tokio::test]
async fn gemini_json_mode_asks_for_json_with_the_plan_schema_and_gets_pure_json() {
    let sim = simulator(VendorBehaviour::default()).await;
    let vendors = vendors_at(&sim.base_url(), Duration::from_secs(10));
    let schema = agento_pipeline::plan::PlanStructure::json_schema();
    let mut request = ChatRequest::new(PLAN);
    request.json_schema = Some(schema);
    let json = vendors.gemini.chat(&request).await.unwrap();
    let plan: serde_json::Value = serde_json::from_str(&json.text).expect("pure JSON");
    assert_eq!(plan["Original_Goal"], "Open a bakery");
    let prose = vendors.gemini.chat(&ChatRequest::new(PLAN)).await.unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&prose.text).is_err());
    assert!(
        prose.text.contains("```json"),
        "prose-wrapped without JSON mode"
    );
    assert_eq!(
        agento_pipeline::plan::PlanStructure::from_reply(&json.text, "Open a bakery").unwrap(),
        agento_pipeline::plan::PlanStructure::from_reply(&prose.text, "Open a bakery").unwrap(),
        "the same plan either way"
    );
}

#[tokio::test]
async fn parameters_are_resolved_per_model_and_override() {
    let sim = simulator(VendorBehaviour::default()).await;
    let config = VendorsConfig::from_lookup(|name| match name {
        "OPENAI_MODEL" => Some("gpt-4.1".to_owned()),
        "GEMINI_TEMPERATURE" => Some("none".to_owned()),
        _ => None,
    })
    .unwrap();
    let vendors = Vendors::new(config).unwrap();
    let wanted = agento_pipeline::vendors::Wanted::new(0.3).with_max_tokens(100);
    let params = |vendor| vendors.params(vendor, wanted);
    assert_eq!(
        params(Vendor::OpenAi).temperature,
        Some(0.3),
        "gpt-4.1 takes it"
    );
    assert_eq!(
        params(Vendor::Gemini).temperature,
        None,
        "GEMINI_TEMPERATURE=none"
    );
    assert_eq!(
        params(Vendor::Anthropic).temperature,
        None,
        "Anthropic: never by default"
    );
    assert!(
        Vendor::ALL
            .iter()
            .all(|v| params(*v).max_tokens == Some(100))
    );
    drop(sim);
}
