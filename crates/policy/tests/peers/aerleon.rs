//! Aerleon's `aclcheck` (PyPI) as a peer, for the agreement test and the benchmark: writes a
//! policy, its definitions and flows, and asks Aerleon for the first matching term per flow.

use policy::acl::{Acl, Flow};
use std::path::Path;
use std::process::Command;

/// Loads the policy with Aerleon, asks `AclCheck` for each flow (one per line of the flows
/// file: src dst proto sport dport), and prints the seconds it took, then the first exact
/// match's term per flow (`-` when none matched: the implicit deny).
pub const DRIVER: &str = r#"
import sys, time
from aerleon.lib import aclcheck, naming, policy
defs = naming.Naming(sys.argv[1])
with open(sys.argv[2]) as f:
    pol = policy.ParsePolicy(f.read(), defs, optimize=False)
flows = [line.split() for line in open(sys.argv[3])]
out = []
t = time.perf_counter()
for src, dst, proto, sport, dport in flows:
    c = aclcheck.AclCheck(pol, src, dst, None if sport == '-' else sport, None if dport == '-' else dport, proto)
    m = c.ExactMatches()
    out.append(m[0].term if m else '-')
print(time.perf_counter() - t)
print('\n'.join(out))
"#;

/// Writes the policy, its definitions and the flows into `dir` and runs the driver: the
/// seconds Aerleon took and its verdict (rule index or `None`) per flow.
pub fn aclcheck(py: &str, dir: &Path, acl: &Acl, flows: &[Flow]) -> (f64, Vec<Option<usize>>) {
    let files = policy::synth::to_aerleon(acl, &format!("cisco {} extended", acl.name)).expect("a box-only policy");
    let defs = dir.join("def");
    std::fs::create_dir_all(&defs).expect("a directory for the definitions");
    std::fs::write(defs.join("NETWORK.net"), &files.networks).expect("write a file for Aerleon");
    std::fs::write(defs.join("SERVICES.svc"), &files.services).expect("write a file for Aerleon");
    std::fs::write(dir.join("policy.pol"), &files.policy).expect("write a file for Aerleon");
    let proto = |p: u8| match p {
        6 => "tcp".to_owned(),
        17 => "udp".to_owned(),
        1 => "icmp".to_owned(),
        p => p.to_string(),
    };
    let lines: String = flows
        .iter()
        .map(|f| {
            let ported = matches!(f.proto, 6 | 17);
            let port = |p: u16| if ported { p.to_string() } else { "-".into() };
            format!("{} {} {} {} {}\n", f.src, f.dst, proto(f.proto), port(f.sport), port(f.dport))
        })
        .collect();
    std::fs::write(dir.join("flows"), lines).expect("write a file for Aerleon");
    let out = Command::new(py)
        .arg("-c")
        .arg(DRIVER)
        .args([defs.as_os_str(), dir.join("policy.pol").as_os_str(), dir.join("flows").as_os_str()])
        .output()
        .expect("run the Python driver");
    assert!(out.status.success(), "aclcheck failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("UTF-8 from the driver");
    let mut lines = text.lines();
    let secs: f64 = lines.next().and_then(|l| l.parse().ok()).expect("the driver's timing");
    let verdicts = lines.map(|l| l.strip_prefix('t').and_then(|i| i.parse().ok())).collect();
    (secs, verdicts)
}

/// Renders the filter for each Aerleon target (`cisco NAME extended`, `ciscoasa NAME`, …)
/// with `aclgen`, the generator installed beside the Python: the generated files by
/// extension (`acl`, `asa`, `nxacl`, …).
pub fn render(py: &str, dir: &Path, acl: &Acl, targets: &[String]) -> std::collections::BTreeMap<String, String> {
    let files = policy::synth::to_aerleon(acl, &targets.join("\n  target:: ")).expect("a box-only policy");
    let (defs, pol, out) = (dir.join("def"), dir.join("pol"), dir.join("out"));
    for d in [&defs, &pol, &out] {
        std::fs::create_dir_all(d).expect("a directory for aclgen");
    }
    std::fs::write(defs.join("NETWORK.net"), &files.networks).expect("write a file for Aerleon");
    std::fs::write(defs.join("SERVICES.svc"), &files.services).expect("write a file for Aerleon");
    std::fs::write(pol.join("policy.pol"), &files.policy).expect("write a file for Aerleon");
    let aclgen = Path::new(py).with_file_name("aclgen");
    let status = Command::new(&aclgen)
        .current_dir(dir)
        .args(["--base_directory", ".", "--policy_file", "pol/policy.pol"])
        .args(["--definitions_directory", "def", "--output_directory", "out"])
        .output()
        .expect("run aclgen");
    assert!(status.status.success(), "aclgen failed: {}", String::from_utf8_lossy(&status.stderr));
    std::fs::read_dir(&out)
        .expect("aclgen's output")
        .filter_map(|e| {
            let p = e.ok()?.path();
            let ext = p.extension()?.to_str()?.to_owned();
            Some((ext, std::fs::read_to_string(&p).ok()?))
        })
        .collect()
}
