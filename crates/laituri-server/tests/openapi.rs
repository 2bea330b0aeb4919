//! The OpenAPI description: valid JSON, OpenAPI 3.1, and it documents every path of the protocol.

mod common;

use common::{TestServer, json_ok};
use laituri_server::http::OPENAPI_JSON;
use serde_json::Value;

/// The protocol's paths, read from its source so that a path added there and not documented here
/// fails this test.
fn protocol_paths() -> Vec<String> {
    let src = include_str!("../../laituri-protocol/src/api.rs");
    let start = src.find("pub mod paths {").expect("the paths module");
    let body = &src[start..];
    let body = &body[..body.find('}').expect("end of the paths module")];
    let paths: Vec<String> = body
        .lines()
        .filter(|l| l.trim_start().starts_with("pub const"))
        .map(|l| l.split('"').nth(1).expect("a string path").to_string())
        .collect();
    assert!(paths.len() >= 14, "{paths:?}");
    paths
}

#[test]
fn every_protocol_path_is_described() {
    let doc: Value = serde_json::from_str(OPENAPI_JSON).expect("openapi.json parses as JSON");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let described = doc["paths"].as_object().expect("a paths object");
    for path in protocol_paths() {
        assert!(
            described.contains_key(&path),
            "{path} is not in openapi.json"
        );
    }
    assert!(described.contains_key(&format!(
        "{}/{{receipt_id}}",
        laituri_protocol::paths::RECEIPTS
    )));
    // Every $ref points at a schema that exists.
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 20);
    for r in refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r}"));
        assert!(
            schemas.contains_key(name),
            "$ref to a missing schema {name}"
        );
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_server_serves_the_description() {
    let s = TestServer::start();
    let resp = s
        .client
        .get(s.url(laituri_protocol::paths::OPENAPI))
        .send()
        .await
        .unwrap();
    let doc: Value = json_ok(resp).await;
    assert_eq!(doc["info"]["title"], "Laituri server API");
}
