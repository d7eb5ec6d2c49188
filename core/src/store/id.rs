//! Container ids: the characters runc accepts (letters, digits, `_`, `+`, `-`, `.`), never `.` or
//! `..`, so that an id is always one plain path component under the root.

use crate::err;
use crate::error::Result;

pub fn validate_id(id: &str) -> Result<()> {
    if id.is_empty() {
        return Err(err!(InvalidArgument, "container id cannot be empty"));
    }
    if id == "." || id == ".." {
        return Err(err!(InvalidArgument, "invalid container id {:?}", id));
    }
    if id.len() > 1024 {
        return Err(err!(
            InvalidArgument,
            "invalid container id: longer than 1024 bytes"
        ));
    }
    let ok = id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-' | b'.'));
    if !ok {
        return Err(err!(
            InvalidArgument,
            "invalid container id {:?}: only letters, digits, '_', '+', '-' and '.' are allowed",
            id
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate_id;

    #[test]
    fn accepts_runc_ids() {
        for id in ["a", "abc-123", "x_y.z+w", "0", "..a"] {
            assert!(validate_id(id).is_ok(), "{id}");
        }
    }

    #[test]
    fn refuses_path_like_and_odd_ids() {
        for id in ["", ".", "..", "a/b", "../x", "a b", "a\n", "é"] {
            assert!(validate_id(id).is_err(), "{id:?}");
        }
    }
}
