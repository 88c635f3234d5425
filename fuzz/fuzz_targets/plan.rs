//! Plan-JSON extraction and validation on arbitrary model replies: never a
//! panic, and what is extracted is JSON found in the reply.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(json) = agento_pipeline::plan::extract_json(text) {
            assert!(text.contains(json) && json.starts_with('{') && json.ends_with('}'));
        }
        let _ = agento_pipeline::plan::PlanStructure::from_reply(text, "goal");
        let _ = agento_pipeline::verdict::Verdict::parse(text);
    }
});

