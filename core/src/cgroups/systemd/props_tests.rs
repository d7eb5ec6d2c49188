use super::super::wire::Value;
use super::*;

fn res(v: serde_json::Value) -> LinuxResources {
    serde_json::from_value(v).unwrap()
}

fn get<'a>(props: &'a [Value], name: &str) -> Option<&'a Value> {
    props.iter().find_map(|p| match p {
        Value::Struct(kv) if kv[0] == Value::str(name) => match &kv[1] {
            Value::Variant(v) => Some(&**v),
            _ => None,
        },
        _ => None,
    })
}

#[test]
fn cpu_weight_from_shares() {
    assert_eq!(cpu_weight(2), 1);
    assert_eq!(cpu_weight(1024), 39);
    assert_eq!(cpu_weight(262144), 10000);
    assert_eq!(cpu_weight(0), 1);
    assert_eq!(io_weight(10), 1);
    assert_eq!(io_weight(1000), 10000);
    assert_eq!(io_weight(500), 4950);
}

#[test]
fn quota_rounds_up_to_whole_percents() {
    assert_eq!(quota_per_sec(50_000, 100_000), 500_000);
    assert_eq!(quota_per_sec(12_345, 100_000), 130_000);
    assert_eq!(quota_per_sec(1, 100_000), 10_000);
    assert_eq!(quota_per_sec(50_000, 0), 500_000);
    assert_eq!(quota_per_sec(-1, 100_000), MAX);
    let p = v2(
        &res(serde_json::json!({"cpu": {"quota": 12345, "period": 50000}})),
        252,
    )
    .unwrap();
    assert_eq!(get(&p, "CPUQuotaPerSecUSec"), Some(&Value::U64(250_000)));
    assert_eq!(get(&p, "CPUQuotaPeriodUSec"), Some(&Value::U64(50_000)));
    // systemd before 242 has no period property.
    let p = v2(
        &res(serde_json::json!({"cpu": {"quota": 12345, "period": 50000}})),
        241,
    )
    .unwrap();
    assert_eq!(get(&p, "CPUQuotaPeriodUSec"), None);
}

#[test]
fn swap_is_converted_to_swap_alone() {
    assert_eq!(swap_v2(Some(100), Some(300)).unwrap(), Some(200));
    assert_eq!(swap_v2(Some(100), Some(-1)).unwrap(), Some(MAX));
    assert_eq!(swap_v2(Some(-1), None).unwrap(), Some(MAX));
    assert_eq!(swap_v2(Some(100), None).unwrap(), None);
    assert!(swap_v2(Some(300), Some(100)).is_err());
    assert!(swap_v2(None, Some(100)).is_err());
}

#[test]
fn cpu_masks_are_little_endian_bits() {
    assert_eq!(mask("0-2,7").unwrap(), vec![0x87]);
    assert_eq!(mask("0-2,7,8").unwrap(), vec![0x87, 0x01]);
    assert_eq!(mask("9").unwrap(), vec![0x00, 0x02]);
    assert!(mask("").is_err());
    assert!(mask("3-1").is_err());
    assert!(mask("x").is_err());
}

#[test]
fn v2_properties_of_a_spec() {
    let r = res(serde_json::json!({
        "memory": {"limit": 1048576, "reservation": 524288, "swap": 2097152},
        "cpu": {"shares": 1024, "cpus": "0-2,7", "mems": "0"},
        "pids": {"limit": -1},
        "blockIO": {"weight": 500},
        "unified": {"memory.high": "786432", "pids.max": "max", "io.max": "ignored"}
    }));
    let p = v2(&r, 252).unwrap();
    assert_eq!(get(&p, "MemoryMax"), Some(&Value::U64(1048576)));
    assert_eq!(get(&p, "MemoryLow"), Some(&Value::U64(524288)));
    assert_eq!(get(&p, "MemorySwapMax"), Some(&Value::U64(1048576)));
    assert_eq!(get(&p, "MemoryHigh"), Some(&Value::U64(786432)));
    assert_eq!(get(&p, "CPUWeight"), Some(&Value::U64(39)));
    assert_eq!(get(&p, "TasksMax"), Some(&Value::U64(MAX)));
    assert_eq!(get(&p, "IOWeight"), Some(&Value::U64(4950)));
    assert_eq!(
        get(&p, "AllowedCPUs"),
        Some(&Value::Array("y".into(), vec![Value::Byte(0x87)]))
    );
    assert_eq!(
        get(&p, "AllowedMemoryNodes")
            .map(Value::signature)
            .as_deref(),
        Some("ay")
    );
    // systemd before 244 has no cpuset properties.
    assert_eq!(get(&v2(&r, 243).unwrap(), "AllowedCPUs"), None);
    for p in &p {
        assert_eq!(p.signature(), "(sv)");
    }
}

#[test]
fn v1_properties_of_a_spec() {
    let r = res(serde_json::json!({
        "memory": {"limit": 1048576},
        "cpu": {"shares": 512},
        "pids": {"limit": 10},
        "blockIO": {"weight": 300}
    }));
    let p = v1(&r, 252).unwrap();
    assert_eq!(get(&p, "MemoryLimit"), Some(&Value::U64(1048576)));
    assert_eq!(get(&p, "CPUShares"), Some(&Value::U64(512)));
    assert_eq!(get(&p, "TasksMax"), Some(&Value::U64(10)));
    assert_eq!(get(&p, "BlockIOWeight"), Some(&Value::U64(300)));
    assert_eq!(get(&p, "MemoryMax"), None);
}
