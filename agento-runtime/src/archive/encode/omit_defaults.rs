//! A serde `Serializer` adapter that leaves out struct fields holding their
//! default value (`0`, `false`, `""`, empty sequences, `None`), as protojson
//! and the Collector do. Map entries are kept as they are, so `AnyValue`s
//! (`{"intValue":"0"}`, `{"stringValue":""}`) survive unchanged.

use serde::ser::{
    self, Impossible, Serialize, SerializeMap, SerializeSeq, SerializeStruct,
    SerializeStructVariant, SerializeTuple, SerializeTupleStruct, SerializeTupleVariant,
    Serializer,
};

/// Wraps a serializer so that default-valued struct fields are skipped, at
/// every depth.
pub struct OmitDefaults<S> {
    inner: S,
}

impl<S> OmitDefaults<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

/// `value` serialised through [`OmitDefaults`].
struct Omitting<'a, T: ?Sized>(&'a T);

impl<T: Serialize + ?Sized> Serialize for Omitting<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(OmitDefaults::new(serializer))
    }
}

/// Each `Serialize*` state of the inner serializer, wrapped.
pub struct Compound<C> {
    inner: C,
}

macro_rules! forward_scalars {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(fn $method(self, value: $ty) -> Result<S::Ok, S::Error> {
            self.inner.$method(value)
        })*
    };
}

impl<S: Serializer> Serializer for OmitDefaults<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Compound<S::SerializeSeq>;
    type SerializeTuple = Compound<S::SerializeTuple>;
    type SerializeTupleStruct = Compound<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Compound<S::SerializeTupleVariant>;
    type SerializeMap = Compound<S::SerializeMap>;
    type SerializeStruct = Compound<S::SerializeStruct>;
    type SerializeStructVariant = Compound<S::SerializeStructVariant>;

    forward_scalars!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_struct(&'static str),
    );

    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_none()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.inner.serialize_some(&Omitting(value))
    }
    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit_variant(name, index, variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.inner.serialize_newtype_struct(name, &Omitting(value))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.inner
            .serialize_newtype_variant(name, index, variant, &Omitting(value))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.inner
            .serialize_seq(len)
            .map(|inner| Compound { inner })
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.inner
            .serialize_tuple(len)
            .map(|inner| Compound { inner })
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.inner
            .serialize_tuple_struct(name, len)
            .map(|inner| Compound { inner })
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.inner
            .serialize_tuple_variant(name, index, variant, len)
            .map(|inner| Compound { inner })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.inner
            .serialize_map(len)
            .map(|inner| Compound { inner })
    }
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.inner
            .serialize_struct(name, len)
            .map(|inner| Compound { inner })
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.inner
            .serialize_struct_variant(name, index, variant, len)
            .map(|inner| Compound { inner })
    }
}

macro_rules! forward_elements {
    ($trait:ident, $method:ident) => {
        impl<C: $trait> $trait for Compound<C> {
            type Ok = C::Ok;
            type Error = C::Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
                self.inner.$method(&Omitting(value))
            }
            fn end(self) -> Result<C::Ok, C::Error> {
                self.inner.end()
            }
        }
    };
}

forward_elements!(SerializeSeq, serialize_element);
forward_elements!(SerializeTuple, serialize_element);
forward_elements!(SerializeTupleStruct, serialize_field);
forward_elements!(SerializeTupleVariant, serialize_field);

impl<C: SerializeMap> SerializeMap for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), C::Error> {
        self.inner.serialize_key(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        self.inner.serialize_value(&Omitting(value))
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

/// A struct's (or struct variant's) fields, each left out when it is
/// default.
macro_rules! forward_fields {
    ($trait:ident) => {
        impl<C: $trait> $trait for Compound<C> {
            type Ok = C::Ok;
            type Error = C::Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), C::Error> {
                if is_default(value) {
                    self.inner.skip_field(key)
                } else {
                    self.inner.serialize_field(key, &Omitting(value))
                }
            }
            fn end(self) -> Result<C::Ok, C::Error> {
                self.inner.end()
            }
        }
    };
}

forward_fields!(SerializeStruct);
forward_fields!(SerializeStructVariant);

/// Whether `value` serialises as a default scalar, an empty sequence or `None`.
/// Structs and maps are never default (the Collector writes `"status":{}`).
fn is_default<T: Serialize + ?Sized>(value: &T) -> bool {
    value.serialize(DefaultProbe).is_ok()
}

/// A serializer that succeeds only for default values and fails fast (without
/// looking at elements) for anything else.
struct DefaultProbe;

#[derive(Debug)]
struct NotDefault;

impl std::fmt::Display for NotDefault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a default value")
    }
}

impl std::error::Error for NotDefault {}

impl ser::Error for NotDefault {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Self
    }
}

fn default_if(is_default: bool) -> Result<(), NotDefault> {
    if is_default { Ok(()) } else { Err(NotDefault) }
}

macro_rules! probe_scalars {
    ($($method:ident($ty:ty) => $zero:expr),* $(,)?) => {
        $(fn $method(self, value: $ty) -> Result<(), NotDefault> {
            default_if(value == $zero)
        })*
    };
}

impl Serializer for DefaultProbe {
    type Ok = ();
    type Error = NotDefault;
    type SerializeSeq = EmptySeq;
    type SerializeTuple = Impossible<(), NotDefault>;
    type SerializeTupleStruct = Impossible<(), NotDefault>;
    type SerializeTupleVariant = Impossible<(), NotDefault>;
    type SerializeMap = Impossible<(), NotDefault>;
    type SerializeStruct = Impossible<(), NotDefault>;
    type SerializeStructVariant = Impossible<(), NotDefault>;

    probe_scalars!(
        serialize_bool(bool) => false, serialize_i8(i8) => 0, serialize_i16(i16) => 0, serialize_i32(i32) => 0,
        serialize_i64(i64) => 0, serialize_u8(u8) => 0, serialize_u16(u16) => 0, serialize_u32(u32) => 0,
        serialize_u64(u64) => 0, serialize_char(char) => '\0',
    );

    fn serialize_f32(self, value: f32) -> Result<(), NotDefault> {
        default_if(value.to_bits() == 0)
    }
    fn serialize_f64(self, value: f64) -> Result<(), NotDefault> {
        default_if(value.to_bits() == 0)
    }
    fn serialize_str(self, value: &str) -> Result<(), NotDefault> {
        default_if(value.is_empty())
    }
    fn serialize_bytes(self, value: &[u8]) -> Result<(), NotDefault> {
        default_if(value.is_empty())
    }
    fn serialize_none(self) -> Result<(), NotDefault> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), NotDefault> {
        Err(NotDefault)
    }
    fn serialize_unit(self) -> Result<(), NotDefault> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), NotDefault> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), NotDefault> {
        Err(NotDefault)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), NotDefault> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), NotDefault> {
        Err(NotDefault)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<EmptySeq, NotDefault> {
        match len {
            Some(0) => Ok(EmptySeq),
            _ => Err(NotDefault),
        }
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotDefault> {
        Err(NotDefault)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, NotDefault> {
        Err(NotDefault)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotDefault> {
        Err(NotDefault)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotDefault> {
        Err(NotDefault)
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, NotDefault> {
        Err(NotDefault)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotDefault> {
        Err(NotDefault)
    }
}

/// The state of an empty sequence being probed.
struct EmptySeq;

impl SerializeSeq for EmptySeq {
    type Ok = ();
    type Error = NotDefault;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<(), NotDefault> {
        Err(NotDefault)
    }
    fn end(self) -> Result<(), NotDefault> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_valued_fields_are_skipped() {
        use serde::Serialize;
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Status {
            code: i32,
            message: String,
            tags: Vec<u8>,
        }
        let mut out = Vec::new();
        Status {
            code: 0,
            message: String::new(),
            tags: vec![],
        }
        .serialize(OmitDefaults::new(&mut serde_json::Serializer::new(
            &mut out,
        )))
        .unwrap();
        assert_eq!(out, b"{}");
    }
}
