//! The offline vendor simulator over real HTTP: deterministic content that
//! drives the pipeline (a plan that validates, NO-then-YES verdicts), the
//! vendors' own JSON shapes, injected behaviour, and garbage requests answered
//! with a 4xx in the vendor's error shape, never a panic.

use std::time::Duration;

use agento_pipeline::plan::PlanStructure;
use agento_pipeline::simulator::{Failure, Simulator, SimulatorConfig, VendorBehaviour};
use agento_pipeline::vendors::{ChatRequest, Reply, Vendor, Vendors, VendorsConfig};
use serde_json::{Value, json};

const GOAL: &str = "Open a neighbourhood bakery";

fn prompt(marker: &str, step: Option<&str>) -> String {
    let step = step.map(|s| format!("Step: {s}\n")).unwrap_or_default();
    format!("[agento:{marker}]\nGoal: {GOAL}\n{step}\nPlease answer.")
}

async fn start(config: SimulatorConfig) -> (Simulator, Vendors) {
    let sim = Simulator::start(config, 0)
        .await
        .expect("the simulator starts");
    let vendors = Vendors::new(VendorsConfig::offline(&sim.base_url()).expect("settings"))
        .expect("the clients build");
    (sim, vendors)
}

async fn ask(vendors: &Vendors, vendor: Vendor, prompt: &str) -> Reply {
    let request = ChatRequest::new(prompt);
    let reply = vendors.chat(vendor, &request).await;
    reply.unwrap_or_else(|error| panic!("{vendor}: {error}"))
}

#[tokio::test]
async fn the_plan_reply_is_a_plan_structure_that_validates() {
    let (sim, vendors) = start(SimulatorConfig::default()).await;
    for goal in [GOAL, "Learn Rust in a month", "Run a marathon"] {
        let reply = ask(
            &vendors,
            Vendor::Gemini,
            &format!("[agento:plan]\nGoal: {goal}\n"),
        )
        .await;
        assert!(reply.text.contains("```json\n"), "fenced like a real model");
        let plan = PlanStructure::from_reply(&reply.text, goal).expect("the plan validates");
        assert_eq!(plan.original_goal, goal);
        assert!((3..=4).contains(&plan.detailed_outline.len()));
        let json = reply
            .text
            .split("```json")
            .nth(1)
            .unwrap()
            .split("```")
            .next()
            .unwrap();
        let json: Value = serde_json::from_str(json).unwrap();
        for step in json["Detailed_Outline"].as_array().unwrap() {
            let name = step["name"].as_str().unwrap();
            assert!(
                json["Evaluation_Criteria"][name].is_string(),
                "criteria for {name}"
            );
            assert!(step["content"].as_str().unwrap().contains(goal));
        }
        assert!(!json["Success_Measures"].as_array().unwrap().is_empty());
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn each_step_kind_gets_its_own_reply() {
    let (sim, vendors) = start(SimulatorConfig::default()).await;
    let step = Some("Find a location");
    let draft = ask(&vendors, Vendor::OpenAi, &prompt("draft", step))
        .await
        .text;
    assert!(
        draft.starts_with("## Find a location\n") && draft.contains(GOAL),
        "{draft}"
    );
    let critique = ask(&vendors, Vendor::OpenAi, &prompt("critique", step))
        .await
        .text;
    assert!(critique.contains("\"Find a location\"") && critique.contains("acceptance test"));
    let instruction = ask(
        &vendors,
        Vendor::Anthropic,
        &prompt("revision_instruction", step),
    )
    .await;
    assert!(
        instruction
            .text
            .starts_with("Revise \"Find a location\": (1)")
    );
    let revised = ask(&vendors, Vendor::Gemini, &prompt("revision_draft", step))
        .await
        .text;
    assert!(revised.starts_with("## Find a location (revised)") && revised.contains("| Owner |"));
    let review = ask(
        &vendors,
        Vendor::Anthropic,
        &prompt("holistic_review", None),
    )
    .await
    .text;
    assert!(review.starts_with(&format!("The plan for \"{GOAL}\" is coherent")));
    let unmarked = ask(&vendors, Vendor::OpenAi, "hello").await.text;
    assert_eq!(unmarked, "I received a prompt of 5 characters.");
    sim.shutdown().await;
}

#[tokio::test]
async fn verdicts_say_no_then_yes_for_each_step() {
    let (sim, vendors) = start(SimulatorConfig::default()).await;
    let verdict = |step: &'static str| {
        let vendors = &vendors;
        async move {
            ask(
                vendors,
                Vendor::Anthropic,
                &prompt("revision_verdict", Some(step)),
            )
            .await
            .text
        }
    };
    let first = verdict("Find a location").await;
    assert!(first.starts_with("NO — \"Find a location\""), "{first}");
    assert!(
        verdict("Hire bakers").await.starts_with("NO — "),
        "counted per step"
    );
    assert!(verdict("Find a location").await.starts_with("YES — "));
    assert!(verdict("Hire bakers").await.starts_with("YES — "));
    // With an `Iteration:` line (as the stages send), the answer is stateless.
    let numbered =
        |n: u32| format!("[agento:revision_verdict]\nGoal: {GOAL}\nStep: S\nIteration: {n}\n");
    for _ in 0..2 {
        assert!(
            ask(&vendors, Vendor::Anthropic, &numbered(1))
                .await
                .text
                .starts_with("NO")
        );
        assert!(
            ask(&vendors, Vendor::Anthropic, &numbered(2))
                .await
                .text
                .starts_with("YES")
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn the_same_prompt_gets_the_same_reply_from_any_simulator() {
    let (one, first) = start(SimulatorConfig::default()).await;
    let (two, second) = start(SimulatorConfig::default()).await;
    for marker in [
        "plan",
        "draft",
        "critique",
        "revision_instruction",
        "revision_draft",
        "holistic_review",
    ] {
        let text = prompt(marker, Some("Bake"));
        for vendor in Vendor::ALL {
            let (a, b) = (
                ask(&first, vendor, &text).await,
                ask(&second, vendor, &text).await,
            );
            let again = ask(&first, vendor, &text).await;
            assert_eq!(a.text, b.text, "{vendor} {marker}");
            assert_eq!(a.text, again.text);
            assert_eq!(a.usage, b.usage);
            assert_eq!(
                (a.model.as_str(), &a.finish_reasons),
                (b.model.as_str(), &b.finish_reasons)
            );
        }
    }
    one.shutdown().await;
    two.shutdown().await;
}

#[tokio::test]
async fn responses_have_each_vendors_shape() {
    let (sim, _) = start(SimulatorConfig::default()).await;
    let url = sim.base_url();
    let http = reqwest::Client::new();
    let gemini: Value = http
        .post(format!(
            "{url}/v1beta/models/gemini-2.5-flash:generateContent"
        ))
        .header("x-goog-api-key", "k")
        .json(
            &json!({"contents": [{"role": "user", "parts": [{"text": "[agento:plan]\nGoal: G"}]}],
                      "generationConfig": {"temperature": 0.1}}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let usage = &gemini["usageMetadata"];
    assert_eq!(gemini["candidates"][0]["content"]["role"], "model");
    assert_eq!(gemini["modelVersion"], "gemini-2.5-flash");
    assert_eq!(
        usage["totalTokenCount"].as_u64(),
        Some(
            usage["promptTokenCount"].as_u64().unwrap()
                + usage["candidatesTokenCount"].as_u64().unwrap()
                + usage["thoughtsTokenCount"].as_u64().unwrap()
        )
    );
    assert_eq!(
        usage["promptTokensDetails"][0]["tokenCount"],
        usage["promptTokenCount"]
    );
    let openai: Value = http
        .post(format!("{url}/v1/chat/completions"))
        .bearer_auth("k")
        .json(&json!({"model": "gpt-4.1-2025-04-14", "max_tokens": 4000,
                      "messages": [{"role": "system", "content": "s"},
                                   {"role": "user", "content": [{"type": "text", "text": "hi"}]}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(openai["object"], "chat.completion");
    assert_eq!(
        openai["model"], "gpt-4.1-2025-04-14",
        "a snapshot is answered as is"
    );
    assert_eq!(openai["choices"][0]["message"]["role"], "assistant");
    assert_eq!(
        openai["choices"][0]["message"]["content"],
        "I received a prompt of 2 characters."
    );
    assert!(openai["usage"]["completion_tokens_details"]["reasoning_tokens"].is_u64());
    assert_eq!(openai["service_tier"], "default");
    assert_eq!(openai["choices"][0]["message"]["annotations"], json!([]));
    let anthropic: Value = http
        .post(format!("{url}/v1/messages"))
        .header("x-api-key", "k")
        .header("anthropic-version", "2023-06-01")
        .json(
            &json!({"model": "claude-opus-4-1", "max_tokens": 100, "system": "s",
                      "messages": [{"role": "user", "content": "hi"}]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(anthropic["type"], "message");
    assert_eq!(anthropic["model"], "claude-opus-4-1-20250929");
    assert_eq!(anthropic["content"][0]["type"], "text");
    assert!(anthropic["stop_sequence"].is_null());
    assert!(anthropic["id"].as_str().unwrap().starts_with("msg_"));
    sim.shutdown().await;
}

/// Each vendor's error shape, checked on a raw answer.
fn assert_vendor_error(vendor: Vendor, status: u16, body: &[u8], context: &str) {
    let json: Value = serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("{context}: not JSON: {}", String::from_utf8_lossy(body)));
    let message = match vendor {
        Vendor::Gemini => {
            assert_eq!(json["error"]["code"], status, "{context}");
            assert!(json["error"]["status"].is_string(), "{context}");
            &json["error"]["message"]
        }
        Vendor::OpenAi => {
            assert!(json["error"]["type"].is_string(), "{context}");
            &json["error"]["message"]
        }
        Vendor::Anthropic => {
            assert_eq!(json["type"], "error", "{context}");
            assert!(json["error"]["type"].is_string(), "{context}");
            &json["error"]["message"]
        }
    };
    assert!(
        message.as_str().is_some_and(|m| !m.is_empty()),
        "{context}: {json}"
    );
}

#[tokio::test]
async fn garbage_requests_get_a_4xx_in_the_vendors_shape_and_no_panic() {
    let (sim, vendors) = start(SimulatorConfig::default()).await;
    let url = sim.base_url();
    let http = reqwest::Client::new();
    let gemini = "/v1beta/models/gemini-2.5-pro:generateContent";
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"not json".to_vec(),
        b"[]".to_vec(),
        b"null".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x80],
        deep.into_bytes(),
        br#"{"contents": 5, "messages": "no", "model": 7}"#.to_vec(),
        br#"{"contents": [{"parts": [{"text": 1}]}], "messages": [{"role": "user"}], "model": "m", "max_tokens": 5}"#.to_vec(),
        br#"{"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"maxOutputTokens": -1},
             "messages": [{"role": "user", "content": "x"}], "model": "m", "max_tokens": "many", "max_completion_tokens": 0}"#.to_vec(),
        br#"{"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"temperature": "hot"},
             "messages": [{"role": "user", "content": "x"}], "model": "m", "max_tokens": 5, "temperature": -1}"#.to_vec(),
        br#"{"contents": [{"parts": [{"text": "x"}]}], "generationConfig": 3,
             "messages": [{"role": "user", "content": "x"}]}"#.to_vec(),
    ];
    let endpoints = [
        (Vendor::Gemini, gemini),
        (Vendor::OpenAi, "/v1/chat/completions"),
        (Vendor::Anthropic, "/v1/messages"),
    ];
    for (vendor, path) in endpoints {
        for (i, body) in bodies.iter().enumerate() {
            let response = http
                .post(format!("{url}{path}"))
                .header("x-goog-api-key", "k")
                .header("x-api-key", "k")
                .header("anthropic-version", "2023-06-01")
                .bearer_auth("k")
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let context = format!("{vendor} body #{i}");
            assert_eq!(status, 400, "{context}");
            assert_vendor_error(vendor, status, &response.bytes().await.unwrap(), &context);
        }
    }
    let strays = [
        (
            Vendor::Gemini,
            "POST",
            "/v1beta/models/gemini-2.5-pro:countTokens",
            404,
        ),
        (
            Vendor::Gemini,
            "POST",
            "/v1beta/models/:generateContent",
            400,
        ),
        (
            Vendor::Gemini,
            "POST",
            "/v1beta/models/%FF%FE:generateContent",
            400,
        ),
        (Vendor::Gemini, "GET", gemini, 405),
        (Vendor::OpenAi, "GET", "/v1/chat/completions", 405),
        (Vendor::OpenAi, "POST", "/v2/anything", 404),
        (Vendor::Anthropic, "DELETE", "/v1/messages", 405),
        (Vendor::Anthropic, "POST", "/v1/messages/batches", 404),
    ];
    for (vendor, method, path, expected) in strays {
        let response = http
            .request(method.parse().unwrap(), format!("{url}{path}"))
            .header("x-goog-api-key", "k")
            .json(&json!({"contents": [{"parts": [{"text": "x"}]}]}))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let context = format!("{method} {path}");
        assert_eq!(status, expected, "{context}");
        assert_vendor_error(vendor, status, &response.bytes().await.unwrap(), &context);
    }
    let calls = sim.calls();
    assert_eq!(calls.openai.rejected, u32::try_from(bodies.len()).unwrap());
    // Still serving, and the garbage did not use up any injected failure.
    for vendor in Vendor::ALL {
        ask(&vendors, vendor, "still there?").await;
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn injected_failures_count_only_valid_calls_and_each_vendor_is_separate() {
    let config = SimulatorConfig {
        openai: VendorBehaviour {
            fail_first: 1,
            failure: Failure::RateLimited {
                retry_after_secs: 3,
            },
            ..VendorBehaviour::default()
        },
        ..SimulatorConfig::default()
    };
    let (sim, vendors) = start(config).await;
    let http = reqwest::Client::new();
    let unauthorised = http
        .post(format!("{}/v1/chat/completions", sim.base_url()))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorised.status(), 401);
    let raw = http
        .post(format!("{}/v1/chat/completions", sim.base_url()))
        .bearer_auth("k")
        .json(&json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 429);
    assert_eq!(raw.headers()["retry-after"], "3");
    let body = raw.bytes().await.unwrap();
    assert_vendor_error(Vendor::OpenAi, 429, &body, "429");
    ask(&vendors, Vendor::OpenAi, "now it works").await;
    ask(&vendors, Vendor::Gemini, "never failed").await;
    let calls = sim.calls();
    assert_eq!(
        (
            calls.openai.requests,
            calls.openai.rejected,
            calls.openai.failed
        ),
        (3, 1, 1)
    );
    assert_eq!((calls.gemini.requests, calls.gemini.failed), (1, 0));
    sim.shutdown().await;
}

#[tokio::test]
async fn malformed_and_huge_replies_on_the_wire() {
    let config = SimulatorConfig {
        gemini: VendorBehaviour {
            malformed_json: true,
            ..VendorBehaviour::default()
        },
        anthropic: VendorBehaviour {
            huge_reply_bytes: Some(40_000),
            ..VendorBehaviour::default()
        },
        ..SimulatorConfig::default()
    };
    let (sim, _) = start(config).await;
    let http = reqwest::Client::new();
    let broken = http
        .post(format!(
            "{}/v1beta/models/m:generateContent",
            sim.base_url()
        ))
        .header("x-goog-api-key", "k")
        .json(&json!({"contents": [{"parts": [{"text": "x"}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), 200);
    assert_eq!(broken.headers()["content-type"], "application/json");
    let text = broken.text().await.unwrap();
    assert!(
        text.starts_with("{\"candidates\":"),
        "a cut-off Gemini body: {text}"
    );
    assert!(serde_json::from_str::<Value>(&text).is_err());
    let huge = http
        .post(format!("{}/v1/messages", sim.base_url()))
        .header("x-api-key", "k")
        .header("anthropic-version", "2023-06-01")
        .json(&json!({"model": "m", "max_tokens": 100_000, "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(huge.len() > 40_000, "{}", huge.len());
    let json: Value = serde_json::from_slice(&huge).unwrap();
    assert_eq!(json["stop_reason"], "end_turn");
    sim.shutdown().await;
}

#[tokio::test]
async fn latency_is_applied_per_vendor() {
    let config = SimulatorConfig {
        anthropic: VendorBehaviour {
            latency: Duration::from_millis(150),
            ..VendorBehaviour::default()
        },
        ..SimulatorConfig::default()
    };
    let (sim, vendors) = start(config).await;
    let started = std::time::Instant::now();
    ask(&vendors, Vendor::Anthropic, "slow").await;
    let slow = started.elapsed();
    let started = std::time::Instant::now();
    ask(&vendors, Vendor::Gemini, "fast").await;
    let fast = started.elapsed();
    assert!(slow >= Duration::from_millis(150), "{slow:?}");
    assert!(
        fast < slow,
        "{fast:?} vs {slow:?}: measured in the same run"
    );
    sim.shutdown().await;
}

#[test]
fn settings_come_from_the_documented_variables() {
    let vars = [
        ("AGENTO_SIM_GEMINI_LATENCY_MS", "25"),
        ("AGENTO_SIM_GEMINI_FAIL_FIRST", "2"),
        ("AGENTO_SIM_GEMINI_FAILURE", "429"),
        ("AGENTO_SIM_GEMINI_RETRY_AFTER_SECS", "4"),
        ("AGENTO_SIM_OPENAI_MALFORMED", "1"),
        ("AGENTO_SIM_OPENAI_FAILURE", "500"),
        ("AGENTO_SIM_ANTHROPIC_HUGE_BYTES", "40000"),
        ("AGENTO_SIM_ANTHROPIC_FAIL_ALWAYS", "true"),
        ("AGENTO_SIM_ANTHROPIC_FAILURE", "400"),
    ];
    let lookup = |name: &str| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    };
    let config = SimulatorConfig::from_lookup(lookup).unwrap();
    assert_eq!(
        config.gemini,
        VendorBehaviour {
            latency: Duration::from_millis(25),
            fail_first: 2,
            failure: Failure::RateLimited {
                retry_after_secs: 4
            },
            ..VendorBehaviour::default()
        }
    );
    assert!(config.openai.malformed_json);
    assert_eq!(config.openai.failure, Failure::ServerError);
    assert_eq!(config.anthropic.huge_reply_bytes, Some(40_000));
    assert!(config.anthropic.fail_always);
    assert_eq!(config.anthropic.failure, Failure::BadRequest);
    assert_eq!(
        SimulatorConfig::from_lookup(|_| None).unwrap(),
        SimulatorConfig::default()
    );
    for (name, value, message) in [
        (
            "AGENTO_SIM_OPENAI_FAILURE",
            "418",
            "AGENTO_SIM_OPENAI_FAILURE=418 is not one of 503, 429, 500, 400, 529",
        ),
        (
            "AGENTO_SIM_GEMINI_LATENCY_MS",
            "fast",
            "AGENTO_SIM_GEMINI_LATENCY_MS=fast is not a whole number",
        ),
    ] {
        let error =
            SimulatorConfig::from_lookup(|n| (n == name).then(|| value.to_owned())).unwrap_err();
        assert_eq!(error, message);
    }
}

/// The peak resident memory of process `pid`, in KiB (`VmHWM`).
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("/proc status")
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[test]
fn idle_and_slow_connections_are_capped_and_closed() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_agento"))
        .args(["simulate", "--port", "0"])
        .env("AGENTO_SIM_MAX_CONNECTIONS", "64")
        .env("AGENTO_SIM_HEADER_TIMEOUT_MS", "500")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("agento simulate starts");
    let mut url = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let address = url.trim().trim_start_matches("http://").to_owned();
    // 300 slow-loris clients: half send nothing, half half a request.
    let idle: Vec<TcpStream> = (0..300)
        .map(|i| {
            let mut stream = TcpStream::connect(&address).expect("loopback connect");
            if i % 2 == 1 {
                stream
                    .write_all(b"POST /v1/messages HTTP/1.1\r\nHost: sim\r\nx-api-key: k\r\n")
                    .unwrap();
            }
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            stream
        })
        .collect();
    for (i, mut stream) in idle.into_iter().enumerate() {
        let mut rest = Vec::new();
        match stream.read_to_end(&mut rest) {
            Ok(_) => {}
            Err(error) => assert_eq!(
                error.kind(),
                std::io::ErrorKind::ConnectionReset,
                "connection {i} still open after 5 s: {error}"
            ),
        }
    }
    let peak = peak_rss_kib(child.id());
    assert!(peak < 64 * 1024, "peak RSS {peak} KiB");
    let body = r#"{"model":"gpt-5.5","messages":[{"role":"user","content":"hi"}]}"#;
    let mut stream = TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "POST /v1/chat/completions HTTP/1.1\r\nHost: sim\r\nAuthorization: Bearer k\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let _ = child.kill();
    let _ = child.wait();
    eprintln!("simulator peak RSS after 300 slow clients: {peak} KiB");
}
