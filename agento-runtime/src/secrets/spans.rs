//! Scrubbing whole spans ([`scrub_span`]): every text attribute, event
//! attribute and status description, a text shared by several keys once.

use std::borrow::Cow;

use opentelemetry::trace::Status;
use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::SpanData;

use super::Scrubber;

/// Replaces secrets in every text of `span`: its name, attribute values, event
/// names and attributes, link attributes and the status message.
pub fn scrub_span(span: &mut SpanData, scrubber: &Scrubber) {
    if let Cow::Owned(clean) = scrubber.scrub(&span.name) {
        span.name = clean.into();
    }
    scrub_attributes(&mut span.attributes, scrubber);
    for event in &mut span.events.events {
        if let Cow::Owned(clean) = scrubber.scrub(&event.name) {
            event.name = clean.into();
        }
        scrub_attributes(&mut event.attributes, scrubber);
    }
    for link in &mut span.links.links {
        scrub_attributes(&mut link.attributes, scrubber);
    }
    if let Status::Error { description } = &mut span.status
        && let Cow::Owned(clean) = scrubber.scrub(description)
    {
        *description = clean.into();
    }
}

/// Texts of one attribute list already scrubbed, by address and length: a
/// text recorded under several keys (a reply under four conventions) shares
/// one allocation and is scrubbed once.
#[derive(Default)]
struct Seen(Vec<((usize, usize), Option<StringValue>)>);

fn scrub_attributes(attributes: &mut [KeyValue], scrubber: &Scrubber) {
    let mut seen = Seen::default();
    for attribute in attributes {
        match &mut attribute.value {
            Value::String(text) => scrub_string(text, scrubber, &mut seen),
            Value::Array(Array::String(texts)) => texts
                .iter_mut()
                .for_each(|text| scrub_string(text, scrubber, &mut seen)),
            _ => {}
        }
    }
}

fn scrub_string(text: &mut StringValue, scrubber: &Scrubber, seen: &mut Seen) {
    let address = (text.as_str().as_ptr() as usize, text.as_str().len());
    if let Some((_, clean)) = seen.0.iter().find(|(known, _)| *known == address) {
        if let Some(clean) = clean {
            *text = clean.clone();
        }
        return;
    }
    let clean = match scrubber.scrub(text.as_str()) {
        Cow::Owned(clean) => Some(StringValue::from(std::sync::Arc::<str>::from(clean))),
        Cow::Borrowed(_) => None,
    };
    // Only texts long enough to be shared are worth remembering.
    if address.1 >= 64 {
        seen.0.push((address, clean.clone()));
    }
    if let Some(clean) = clean {
        *text = clean;
    }
}
