//! Validates SPDX and CycloneDX output with the reference Python tools:
//! `spdx-tools` (`pyspdxtools -i FILE`: JSON schema and SPDX 2.3 semantic
//! rules) and `cyclonedx-python-lib` (the CycloneDX 1.6 JSON schema, strict).
//! `scripts/setup.sh` installs both; when they are missing this test installs
//! them with pip. provscan has no library target, so these are unit tests.

use std::path::Path;
use std::process::Command;

use super::{cyclonedx, spdx, Context};
use crate::policy::tests::sample_report;
use crate::report::Report;

fn python() -> &'static str {
    "python3"
}

fn ensure_python_packages() {
    let have = |module: &str| {
        Command::new(python())
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let missing: Vec<&str> = [
        ("spdx_tools", "spdx-tools"),
        ("cyclonedx", "cyclonedx-python-lib[json-validation]"),
        ("jsonschema", "cyclonedx-python-lib[json-validation]"),
    ]
    .into_iter()
    .filter(|(module, _)| !have(module))
    .map(|(_, package)| package)
    .collect();
    let mut missing = missing;
    missing.dedup();
    if missing.is_empty() {
        return;
    }
    let status = Command::new(python())
        .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
        .args(&missing)
        .status()
        .expect("python3 is needed to validate SPDX and CycloneDX output");
    assert!(status.success(), "pip install {missing:?} failed");
}

/// Writes the target files of the sample report under `dir`, so that SPDX
/// gets real SHA1s.
fn materialize(report: &Report, dir: &Path) {
    for f in &report.findings {
        let path = dir.join(&f.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let body: String = (1..=f.target_lines[1] + 5)
            .map(|n| format!("line {n:>14}\n"))
            .collect();
        std::fs::write(path, body).unwrap();
    }
}

fn context(dir: &Path) -> Context {
    let mut ctx = Context::new("demo project", Some(dir.to_path_buf()));
    ctx.created = 1_700_000_000;
    ctx.sources
        .insert(("zlib".into(), "1.3.1".into()), "deb:zlib=1:1.3.1-1".into());
    ctx.sources.insert(
        ("nlohmann-json".into(), "3.11.3".into()),
        "crate:nlohmann-json@3.11.3".into(),
    );
    ctx
}

fn run_validator(args: &[&str]) -> (bool, String) {
    let out = Command::new(python())
        .args(args)
        .output()
        .expect("running python3");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn reports() -> Vec<Report> {
    let full = sample_report();
    let mut empty = sample_report();
    empty.findings.clear();
    empty.summary.findings = 0;
    vec![full, empty]
}

#[test]
fn spdx_output_passes_spdx_tools() {
    ensure_python_packages();
    for report in reports() {
        let dir = tempfile::tempdir().unwrap();
        materialize(&report, dir.path());
        let mut buf = Vec::new();
        spdx::write_spdx(&report, &context(dir.path()), &mut buf).unwrap();
        let file = dir.path().join("out.spdx.json");
        std::fs::write(&file, &buf).unwrap();
        let code = "import sys\nfrom spdx_tools.spdx.parser.parse_anything import parse_file\n\
                    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document\n\
                    doc = parse_file(sys.argv[1])\n\
                    msgs = validate_full_spdx_document(doc)\n\
                    [print(m.validation_message) for m in msgs]\n\
                    sys.exit(1 if msgs else 0)\n";
        let (ok, text) = run_validator(&["-c", code, file.to_str().unwrap()]);
        assert!(
            ok,
            "SPDX validation failed:\n{text}\n{}",
            String::from_utf8_lossy(&buf)
        );
        let doc: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        for f in doc["files"].as_array().unwrap() {
            assert_eq!(f["checksums"][0]["algorithm"], "SHA1");
            assert_eq!(
                f["checksums"][0]["checksumValue"].as_str().unwrap().len(),
                40
            );
        }
    }
}

#[test]
fn cyclonedx_output_passes_the_1_6_schema() {
    ensure_python_packages();
    for report in reports() {
        let dir = tempfile::tempdir().unwrap();
        let mut buf = Vec::new();
        cyclonedx::write_cyclonedx(&report, &context(dir.path()), &mut buf).unwrap();
        let file = dir.path().join("out.cdx.json");
        std::fs::write(&file, &buf).unwrap();
        let code = "import sys\nfrom cyclonedx.validation.json import JsonStrictValidator\n\
                    from cyclonedx.schema import SchemaVersion\n\
                    err = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())\n\
                    d = getattr(err, 'data', None)\n\
                    print(f'{d.message} at {list(d.absolute_path)}' if d is not None else (err or ''))\n\
                    sys.exit(1 if err else 0)\n";
        let (ok, text) = run_validator(&["-c", code, file.to_str().unwrap()]);
        assert!(
            ok,
            "CycloneDX validation failed:\n{text}\n{}",
            String::from_utf8_lossy(&buf)
        );
    }
}
