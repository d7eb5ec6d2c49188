use super::super::message::{Message, ERROR, METHOD_CALL, SIGNAL};
use super::{split_first, Reader, Value, Writer};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn bytes(v: &Value) -> Vec<u8> {
    let mut w = Writer::default();
    w.put(v);
    w.buf
}

/// A method call whose body is an a(sv) with one boolean, byte by byte.
#[test]
fn a_method_call_with_an_a_sv_body_is_marshalled_exactly() {
    let body = vec![Value::Array(
        "(sv)".into(),
        vec![Value::prop("Delegate", Value::Bool(true))],
    )];
    let m = Message::call(Some("d"), "/p", "i.f", "M", body);
    let want = hex("6c 01 00 01  1c 00 00 00  01 00 00 00  4b 00 00 00
         01 01 6f 00  02 00 00 00  2f 70 00 00  00 00 00 00
         02 01 73 00  03 00 00 00  69 2e 66 00  00 00 00 00
         03 01 73 00  01 00 00 00  4d 00 00 00  00 00 00 00
         06 01 73 00  01 00 00 00  64 00 00 00  00 00 00 00
         08 01 67 00  05 61 28 73  76 29 00 00  00 00 00 00
         14 00 00 00  00 00 00 00  08 00 00 00  44 65 6c 65
         67 61 74 65  00 01 62 00  01 00 00 00");
    let got = m.encode(1);
    assert_eq!(got, want, "\n got {:02x?}\nwant {:02x?}", got, want);
    let back = Message::decode(&got).unwrap();
    assert_eq!(back.kind, METHOD_CALL);
    assert_eq!(back.serial, 1);
    assert_eq!(back.body, m.body);
    assert_eq!(back.member.as_deref(), Some("M"));
    assert_eq!(back.destination.as_deref(), Some("d"));
}

#[test]
fn values_are_aligned_inside_structs_and_arrays() {
    // (s v(t)): the u64 after the variant's signature starts on 8.
    let v = Value::prop("MemoryMax", Value::U64(0x0102030405060708));
    assert_eq!(
        bytes(&v),
        hex(
            "09 00 00 00 4d 65 6d 6f 72 79 4d 61 78 00 01 74 00 00 00 00 00 00 00 00
             08 07 06 05 04 03 02 01"
        )
    );
    // An empty array of structs still pads to its elements' alignment, and its length is 0.
    let empty = Value::Array("(sa(sv))".into(), vec![]);
    assert_eq!(bytes(&empty), hex("00 00 00 00 00 00 00 00"));
    // ay and au: no padding inside ay, 4 for au.
    let ay = Value::Array("y".into(), vec![Value::Byte(0x87), Value::Byte(1)]);
    assert_eq!(bytes(&ay), hex("02 00 00 00 87 01"));
    let au = Value::Struct(vec![
        Value::Byte(7),
        Value::Array("u".into(), vec![Value::U32(42)]),
    ]);
    assert_eq!(bytes(&au), hex("07 00 00 00 04 00 00 00 2a 00 00 00"));
    // a(ss): the first struct is aligned to 8 after the length, the second after the first.
    let ass = Value::Array(
        "(ss)".into(),
        vec![
            Value::Struct(vec![Value::str("a"), Value::str("rwm")]),
            Value::Struct(vec![Value::str("bc"), Value::str("r")]),
        ],
    );
    let want = hex("1e 00 00 00 00 00 00 00
         01 00 00 00 61 00 00 00 03 00 00 00 72 77 6d 00
         02 00 00 00 62 63 00 00 01 00 00 00 72 00");
    assert_eq!(bytes(&ass), want);
    assert_eq!(ass.signature(), "a(ss)");
    let mut r = Reader::new(&want, 0);
    assert_eq!(r.get("a(ss)").unwrap(), ass);
}

#[test]
fn every_type_round_trips() {
    let vals = vec![
        Value::Byte(3),
        Value::Bool(false),
        Value::I32(-5),
        Value::U32(7),
        Value::U64(u64::MAX),
        Value::str("s"),
        Value::Path("/o".into()),
        Value::Sig("a(sv)".into()),
        Value::Array(
            "(sv)".into(),
            vec![
                Value::prop("PIDs", Value::Array("u".into(), vec![Value::U32(1)])),
                Value::prop("Slice", Value::str("system.slice")),
                Value::prop("CPUWeight", Value::U64(100)),
            ],
        ),
        Value::Array("(sa(sv))".into(), vec![]),
        Value::Variant(Box::new(Value::Array("y".into(), vec![Value::Byte(1)]))),
    ];
    let mut w = Writer::default();
    for v in &vals {
        w.put(v);
    }
    let sig: String = vals.iter().map(Value::signature).collect();
    assert_eq!(sig, "ybiutsoga(sv)a(sa(sv))v");
    let mut r = Reader::new(&w.buf, 0);
    assert_eq!(r.get_all(&sig).unwrap(), vals);
    assert_eq!(r.pos(), w.buf.len());
}

#[test]
fn signatures_split_into_complete_types() {
    assert_eq!(split_first("a(sv)u").unwrap(), ("a(sv)", "u"));
    assert_eq!(split_first("a(sa(sv))").unwrap(), ("a(sa(sv))", ""));
    assert_eq!(split_first("aay").unwrap(), ("aay", ""));
    assert_eq!(split_first("uoss").unwrap(), ("u", "oss"));
    assert!(split_first("a(sv").is_err());
    assert!(split_first("a").is_err());
}

#[test]
fn replies_errors_and_signals_parse() {
    let err = Message {
        kind: ERROR,
        error_name: Some("org.freedesktop.systemd1.UnitExists".into()),
        reply_serial: Some(9),
        sender: Some(":1.0".into()),
        destination: Some(":1.5".into()),
        body: vec![Value::str("Unit rune-x.scope already exists.")],
        ..Default::default()
    };
    let back = Message::decode(&err.encode(4)).unwrap();
    assert_eq!(back.kind, ERROR);
    assert_eq!(back.reply_serial, Some(9));
    assert_eq!(back.error_name, err.error_name);
    assert_eq!(back.body, err.body);
    let sig = Message {
        kind: SIGNAL,
        path: Some("/org/freedesktop/systemd1".into()),
        interface: Some("org.freedesktop.systemd1.Manager".into()),
        member: Some("JobRemoved".into()),
        body: vec![
            Value::U32(12),
            Value::Path("/org/freedesktop/systemd1/job/12".into()),
            Value::str("rune-x.scope"),
            Value::str("done"),
        ],
        ..Default::default()
    };
    let back = Message::decode(&sig.encode(77)).unwrap();
    assert_eq!(back, Message { serial: 77, ..sig });
}

#[test]
fn bad_messages_are_errors() {
    let m = Message::call(None, "/p", "i.f", "M", vec![Value::U32(1)]).encode(1);
    assert!(Message::decode(&m[..m.len() - 1]).is_err());
    let mut big = m.clone();
    big[0] = b'B';
    assert!(Message::decode(&big).is_err());
    // A string running past the end.
    let mut r = Reader::new(&[9, 0, 0, 0, b'a'], 0);
    assert!(r.get("s").is_err());
    // An unsupported type.
    let mut r = Reader::new(&[0; 8], 0);
    assert!(r.get("d").is_err());
}
