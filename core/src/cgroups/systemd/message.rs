//! A D-Bus message: the fixed header (endianness `l`, type, flags, version 1, body length,
//! serial), the header fields as `a(yv)`, padding to 8, then the body.

use super::wire::{signature_of, Reader, Value, Writer};
use crate::err;
use crate::error::Result;

pub const METHOD_CALL: u8 = 1;
pub const METHOD_RETURN: u8 = 2;
pub const ERROR: u8 = 3;
pub const SIGNAL: u8 = 4;

/// Bytes read before the whole length of a message is known: the fixed header and the length
/// of the header fields' array.
pub const PREFIX_LEN: usize = 16;
/// The specification's limit on a message's size.
const MAX_LEN: usize = 128 << 20;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Message {
    pub kind: u8,
    pub flags: u8,
    pub serial: u32,
    pub path: Option<String>,
    pub interface: Option<String>,
    pub member: Option<String>,
    pub error_name: Option<String>,
    pub reply_serial: Option<u32>,
    pub destination: Option<String>,
    pub sender: Option<String>,
    pub body: Vec<Value>,
}

impl Message {
    /// A method call (`destination` None on a peer-to-peer connection).
    pub fn call(
        destination: Option<&str>,
        path: &str,
        interface: &str,
        member: &str,
        body: Vec<Value>,
    ) -> Message {
        Message {
            kind: METHOD_CALL,
            path: Some(path.to_string()),
            interface: Some(interface.to_string()),
            member: Some(member.to_string()),
            destination: destination.map(str::to_string),
            body,
            ..Default::default()
        }
    }

    /// The message's bytes, with `serial`.
    pub fn encode(&self, serial: u32) -> Vec<u8> {
        let mut body = Writer::default();
        for v in &self.body {
            body.put(v);
        }
        let sig = signature_of(&self.body);
        let mut fields = Vec::new();
        let mut field = |code: u8, v: Value| {
            fields.push(Value::Struct(vec![
                Value::Byte(code),
                Value::Variant(Box::new(v)),
            ]))
        };
        let s = |o: &Option<String>| o.clone();
        if let Some(p) = s(&self.path) {
            field(1, Value::Path(p));
        }
        if let Some(i) = s(&self.interface) {
            field(2, Value::Str(i));
        }
        if let Some(m) = s(&self.member) {
            field(3, Value::Str(m));
        }
        if let Some(e) = s(&self.error_name) {
            field(4, Value::Str(e));
        }
        if let Some(r) = self.reply_serial {
            field(5, Value::U32(r));
        }
        if let Some(d) = s(&self.destination) {
            field(6, Value::Str(d));
        }
        if let Some(d) = s(&self.sender) {
            field(7, Value::Str(d));
        }
        if !sig.is_empty() {
            field(8, Value::Sig(sig));
        }
        let mut w = Writer::default();
        w.buf.extend_from_slice(&[b'l', self.kind, self.flags, 1]);
        w.buf
            .extend_from_slice(&(body.buf.len() as u32).to_le_bytes());
        w.buf.extend_from_slice(&serial.to_le_bytes());
        w.put(&Value::Array("(yv)".into(), fields));
        while !w.buf.len().is_multiple_of(8) {
            w.buf.push(0);
        }
        w.buf.extend_from_slice(&body.buf);
        w.buf
    }

    /// The whole length of the message whose first `PREFIX_LEN` bytes are `p`.
    pub fn total_len(p: &[u8; PREFIX_LEN]) -> Result<usize> {
        if p[0] != b'l' {
            return Err(err!(
                Internal,
                "D-Bus: a big-endian message (only little-endian ones are read)"
            ));
        }
        if p[3] != 1 {
            return Err(err!(
                Internal,
                "D-Bus: protocol version {} (1 expected)",
                p[3]
            ));
        }
        let body = u32::from_le_bytes([p[4], p[5], p[6], p[7]]) as usize;
        let fields = u32::from_le_bytes([p[12], p[13], p[14], p[15]]) as usize;
        let total = (PREFIX_LEN + fields).div_ceil(8) * 8 + body;
        if total > MAX_LEN {
            return Err(err!(
                Internal,
                "D-Bus: message of {} bytes is too long",
                total
            ));
        }
        Ok(total)
    }

    /// Parses one whole message.
    pub fn decode(buf: &[u8]) -> Result<Message> {
        let prefix: &[u8; PREFIX_LEN] = buf
            .get(..PREFIX_LEN)
            .and_then(|p| p.try_into().ok())
            .ok_or_else(|| err!(Internal, "D-Bus: message too short"))?;
        let total = Message::total_len(prefix)?;
        if buf.len() != total {
            return Err(err!(
                Internal,
                "D-Bus: message of {} bytes, {} expected",
                buf.len(),
                total
            ));
        }
        let mut m = Message {
            kind: buf[1],
            flags: buf[2],
            serial: u32::from_le_bytes([buf[8], buf[9], buf[10], buf[11]]),
            ..Default::default()
        };
        let mut r = Reader::new(buf, 12);
        let mut sig = String::new();
        if let Value::Array(_, fields) = r.get("a(yv)")? {
            for f in fields {
                let (code, v) = match f {
                    Value::Struct(mut kv) if kv.len() == 2 => {
                        let v = kv.pop();
                        (kv.pop(), v)
                    }
                    _ => continue,
                };
                let v = match v {
                    Some(Value::Variant(v)) => *v,
                    _ => continue,
                };
                let text = v.as_str().map(str::to_string);
                match code {
                    Some(Value::Byte(1)) => m.path = text,
                    Some(Value::Byte(2)) => m.interface = text,
                    Some(Value::Byte(3)) => m.member = text,
                    Some(Value::Byte(4)) => m.error_name = text,
                    Some(Value::Byte(5)) => m.reply_serial = v.as_u32(),
                    Some(Value::Byte(6)) => m.destination = text,
                    Some(Value::Byte(7)) => m.sender = text,
                    Some(Value::Byte(8)) => sig = text.unwrap_or_default(),
                    _ => {}
                }
            }
        }
        let body_at = r.pos().div_ceil(8) * 8;
        let mut r = Reader::new(buf, body_at);
        m.body = r.get_all(&sig)?;
        if r.pos() != buf.len() {
            return Err(err!(
                Internal,
                "D-Bus: body longer than its signature {:?}",
                sig
            ));
        }
        Ok(m)
    }
}
