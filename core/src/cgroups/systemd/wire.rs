//! D-Bus marshalling (the specification's "wire format"), little-endian only: the values the
//! systemd driver sends and reads (`y b i u t s o g`, arrays, structs, variants) and the
//! message header. Every value is aligned to its size from the start of the message (8 for
//! structs, 4 for arrays and strings, 1 for variants and signatures); an array's length
//! counts its elements' bytes, not the padding before the first one.

use crate::err;
use crate::error::Result;

/// A D-Bus value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Byte(u8),
    Bool(bool),
    I32(i32),
    U32(u32),
    U64(u64),
    Str(String),
    Path(String),
    Sig(String),
    /// The element signature (needed for an empty array) and the elements.
    Array(String, Vec<Value>),
    Struct(Vec<Value>),
    Variant(Box<Value>),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(s.to_string())
    }

    /// A `(sv)` pair: a property as systemd takes them.
    pub fn prop(name: &str, v: Value) -> Value {
        Value::Struct(vec![Value::str(name), Value::Variant(Box::new(v))])
    }

    pub fn signature(&self) -> String {
        match self {
            Value::Byte(_) => "y".into(),
            Value::Bool(_) => "b".into(),
            Value::I32(_) => "i".into(),
            Value::U32(_) => "u".into(),
            Value::U64(_) => "t".into(),
            Value::Str(_) => "s".into(),
            Value::Path(_) => "o".into(),
            Value::Sig(_) => "g".into(),
            Value::Array(elem, _) => format!("a{}", elem),
            Value::Struct(vs) => {
                format!("({})", vs.iter().map(Value::signature).collect::<String>())
            }
            Value::Variant(_) => "v".into(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) | Value::Path(s) | Value::Sig(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_u32(&self) -> Option<u32> {
        match self {
            Value::U32(v) => Some(*v),
            _ => None,
        }
    }
}

/// The signature of a list of values (a message body).
pub fn signature_of(vs: &[Value]) -> String {
    vs.iter().map(Value::signature).collect()
}

/// The alignment of a type by its first signature character.
fn align_of(c: u8) -> usize {
    match c {
        b'n' | b'q' => 2,
        b'b' | b'i' | b'u' | b's' | b'o' | b'a' | b'h' => 4,
        b'x' | b't' | b'd' | b'(' | b'{' => 8,
        _ => 1,
    }
}

/// Appends marshalled values to a buffer whose offset 0 is the start of the message.
#[derive(Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    fn pad(&mut self, align: usize) {
        while !self.buf.len().is_multiple_of(align) {
            self.buf.push(0);
        }
    }

    fn u32(&mut self, v: u32) {
        self.pad(4);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn put(&mut self, v: &Value) {
        match v {
            Value::Byte(b) => self.buf.push(*b),
            Value::Bool(b) => self.u32(*b as u32),
            Value::I32(i) => self.u32(*i as u32),
            Value::U32(u) => self.u32(*u),
            Value::U64(t) => {
                self.pad(8);
                self.buf.extend_from_slice(&t.to_le_bytes());
            }
            Value::Str(s) | Value::Path(s) => {
                self.u32(s.len() as u32);
                self.buf.extend_from_slice(s.as_bytes());
                self.buf.push(0);
            }
            Value::Sig(s) => {
                self.buf.push(s.len() as u8);
                self.buf.extend_from_slice(s.as_bytes());
                self.buf.push(0);
            }
            Value::Array(elem, items) => {
                self.u32(0);
                let len_at = self.buf.len() - 4;
                self.pad(align_of(elem.as_bytes().first().copied().unwrap_or(b'y')));
                let start = self.buf.len();
                for i in items {
                    self.put(i);
                }
                let n = (self.buf.len() - start) as u32;
                self.buf[len_at..len_at + 4].copy_from_slice(&n.to_le_bytes());
            }
            Value::Struct(vs) => {
                self.pad(8);
                for v in vs {
                    self.put(v);
                }
            }
            Value::Variant(inner) => {
                self.put(&Value::Sig(inner.signature()));
                self.put(inner);
            }
        }
    }
}

/// The first complete type of `sig` and what follows it.
pub fn split_first(sig: &str) -> Result<(&str, &str)> {
    let b = sig.as_bytes();
    let mut i = 0;
    while b.get(i) == Some(&b'a') {
        i += 1;
    }
    let end = match b.get(i) {
        None => return Err(err!(Internal, "D-Bus: incomplete signature {:?}", sig)),
        Some(&open @ (b'(' | b'{')) => {
            let close = if open == b'(' { b')' } else { b'}' };
            let mut depth = 0;
            let mut j = i;
            loop {
                match b.get(j) {
                    None => return Err(err!(Internal, "D-Bus: unbalanced signature {:?}", sig)),
                    Some(c) if *c == open => depth += 1,
                    Some(c) if *c == close => {
                        depth -= 1;
                        if depth == 0 {
                            break j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        Some(_) => i + 1,
    };
    Ok(sig.split_at(end))
}

/// Reads marshalled values from a message (or a body that starts 8-aligned in it).
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], pos: usize) -> Reader<'a> {
        Reader { buf, pos }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    fn short() -> crate::Error {
        err!(Internal, "D-Bus: message too short for its contents")
    }

    fn align(&mut self, a: usize) -> Result<()> {
        let to = self.pos.div_ceil(a) * a;
        if to > self.buf.len() {
            return Err(Self::short());
        }
        self.pos = to;
        Ok(())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let s = self
            .buf
            .get(self.pos..self.pos + n)
            .ok_or_else(Self::short)?;
        self.pos += n;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32> {
        self.align(4)?;
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn text(&mut self, len: usize) -> Result<String> {
        let s = self.take(len + 1)?;
        String::from_utf8(s[..len].to_vec()).map_err(|_| err!(Internal, "D-Bus: string not UTF-8"))
    }

    /// One value of the single complete type `sig`.
    pub fn get(&mut self, sig: &str) -> Result<Value> {
        let c = sig.as_bytes().first().copied().unwrap_or(0);
        Ok(match c {
            b'y' => Value::Byte(self.take(1)?[0]),
            b'b' => Value::Bool(self.u32()? != 0),
            b'i' => Value::I32(self.u32()? as i32),
            b'u' => Value::U32(self.u32()?),
            b't' => {
                self.align(8)?;
                let b = self.take(8)?;
                Value::U64(u64::from_le_bytes(b.try_into().map_err(|_| Self::short())?))
            }
            b's' | b'o' => {
                let n = self.u32()? as usize;
                let t = self.text(n)?;
                if c == b's' {
                    Value::Str(t)
                } else {
                    Value::Path(t)
                }
            }
            b'g' => {
                let n = self.take(1)?[0] as usize;
                Value::Sig(self.text(n)?)
            }
            b'a' => {
                let n = self.u32()? as usize;
                let elem = &sig[1..];
                self.align(align_of(elem.as_bytes().first().copied().unwrap_or(0)))?;
                let end = self.pos + n;
                if end > self.buf.len() {
                    return Err(Self::short());
                }
                let mut items = Vec::new();
                while self.pos < end {
                    items.push(self.get(elem)?);
                }
                Value::Array(elem.to_string(), items)
            }
            b'(' => {
                self.align(8)?;
                let mut inner = &sig[1..sig.len() - 1];
                let mut vs = Vec::new();
                while !inner.is_empty() {
                    let (first, rest) = split_first(inner)?;
                    vs.push(self.get(first)?);
                    inner = rest;
                }
                Value::Struct(vs)
            }
            b'v' => {
                let n = self.take(1)?[0] as usize;
                let s = self.text(n)?;
                let (first, rest) = split_first(&s)?;
                if !rest.is_empty() {
                    return Err(err!(Internal, "D-Bus: variant of several types {:?}", s));
                }
                Value::Variant(Box::new(self.get(first)?))
            }
            _ => {
                return Err(err!(
                    Internal,
                    "D-Bus: unsupported type in signature {:?}",
                    sig
                ))
            }
        })
    }

    /// The values of the signature `sig` in order.
    pub fn get_all(&mut self, mut sig: &str) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        while !sig.is_empty() {
            let (first, rest) = split_first(sig)?;
            out.push(self.get(first)?);
            sig = rest;
        }
        Ok(out)
    }
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
