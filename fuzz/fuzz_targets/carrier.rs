//! The context carrier parser on arbitrary bytes: never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = agento_runtime::carrier::Carrier::parse(data);
});
