//! What the vendor-client suites share: clients pointed at a loopback server
//! with a key no scrubber shape recognises, and a simulator where every vendor
//! behaves alike.

use std::time::Duration;

use agento_pipeline::simulator::{Simulator, SimulatorConfig, VendorBehaviour};
use agento_pipeline::vendors::{Vendor, VendorConfig, Vendors, VendorsConfig};

/// A key no scrubber shape recognises, so only the clients' own care hides it.
pub const KEY: &str = "k3y-never-shown-0123456789";

/// A prompt the simulator answers with a plan structure.
pub const PLAN: &str = "[agento:plan]\nGoal: Open a bakery\n\nAnswer with a plan.";

/// `vendor`'s client settings for a server at `base_url`.
pub fn config(base_url: &str, vendor: Vendor, timeout: Duration) -> VendorConfig {
    let (base_url, model) = match vendor {
        Vendor::Gemini => (base_url.to_owned(), "gemini-2.5-pro"),
        Vendor::OpenAi => (format!("{base_url}/v1"), "gpt-4.1"),
        Vendor::Anthropic => (base_url.to_owned(), "claude-sonnet-4-5"),
    };
    VendorConfig {
        timeout,
        ..VendorConfig::new(&base_url, Some(KEY.to_owned()), model)
    }
}

/// The three clients, all pointed at `base_url`.
pub fn vendors_at(base_url: &str, timeout: Duration) -> Vendors {
    Vendors::new(VendorsConfig {
        gemini: config(base_url, Vendor::Gemini, timeout),
        openai: config(base_url, Vendor::OpenAi, timeout),
        anthropic: config(base_url, Vendor::Anthropic, timeout),
    })
    .expect("the clients build")
}

/// A simulator where every vendor behaves as `behaviour`.
pub async fn simulator(behaviour: VendorBehaviour) -> Simulator {
    let config = SimulatorConfig {
        gemini: behaviour.clone(),
        openai: behaviour.clone(),
        anthropic: behaviour,
        ..SimulatorConfig::default()
    };
    Simulator::start(config, 0)
        .await
        .expect("the simulator starts")
}
