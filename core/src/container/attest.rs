//! `attest`: a local attestation report, from a kind of workload that has one (an enclave).

use super::Container;
use crate::error::Result;

impl Container {
    /// A local attestation report for `target_info` (PAL v3's pal_get_local_report).
    pub fn attest(&self, target_info: &[u8]) -> Result<Vec<u8>> {
        let dir = self.store.dir_of(self.id());
        let status = self.status();
        crate::workload::handler(&self.state.workload)?.attest(&self.at(&dir, status), target_info)
    }
}
