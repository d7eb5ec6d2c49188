//! The simulated local report of pal_get_local_report (v3). NOT a real attestation report:
//! nothing here is signed or measured. The layout is the skeleton's (skeleton/report.c), so
//! that one verifier reads both; only the magic differs.
//!
//! [`SIZE`] (432, the size of an SGX sgx_report_t) bytes:
//! - 0, 32: `RUNE-WASM-SIMULATED-REPORT v1`, NUL padded
//! - 32, 4: the target info's length, little-endian
//! - 36, 4: the PAL API version (3), little-endian
//! - 40, 32: 4 x FNV-1a-64, lane i over the byte i followed by the target info (not
//!   cryptographic)
//! - 72, 360: the first 360 bytes of the target info at most, zero padded

pub const SIZE: usize = 432;
pub const MAGIC: &[u8] = b"RUNE-WASM-SIMULATED-REPORT v1";

fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// The report for `target_info`.
pub fn make(target_info: &[u8]) -> Vec<u8> {
    let mut r = vec![0u8; SIZE];
    r[..MAGIC.len()].copy_from_slice(MAGIC);
    r[32..36].copy_from_slice(&(target_info.len() as u32).to_le_bytes());
    r[36..40].copy_from_slice(&3u32.to_le_bytes());
    for lane in 0..4u8 {
        let h = fnv1a(fnv1a(0xcbf29ce484222325, &[lane]), target_info);
        let at = 40 + 8 * usize::from(lane);
        r[at..at + 8].copy_from_slice(&h.to_le_bytes());
    }
    let copy = target_info.len().min(SIZE - 72);
    r[72..72 + copy].copy_from_slice(&target_info[..copy]);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let r = make(b"abc");
        assert_eq!(r.len(), SIZE);
        assert!(r.starts_with(MAGIC));
        assert_eq!(&r[32..36], &3u32.to_le_bytes());
        assert_eq!(&r[36..40], &3u32.to_le_bytes());
        assert_eq!(&r[72..75], b"abc");
        assert_ne!(make(b"abd")[40..72], r[40..72]);
    }
}
