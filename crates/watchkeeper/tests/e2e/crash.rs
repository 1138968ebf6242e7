//! Crash safety: kill the server with SIGKILL in the middle of a stream of writes; after a
//! restart every acknowledged write is there and the audit chain verifies.

use crate::{Db, Server, cli, cli_token, client, text};
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn crash_mid_writes(postgres: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(postgres, tmp.path()).await;
    let server = Server::start(&db, &[]).unwrap();
    let token = cli_token(&db, "admin", &["admin"]);
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let base = server.base.clone();
    let mut writers = Vec::new();
    for w in 0..4 {
        let (acked, token, base) = (acked.clone(), token.clone(), base.clone());
        writers.push(tokio::spawn(async move {
            let c = client();
            for i in 0.. {
                let name = format!("crash-{w}-{i}");
                let body = serde_json::json!({"username": name, "role": "viewer", "password": "crash test password"});
                match c.post(format!("{base}/api/v1/users")).bearer_auth(&token).json(&body).send().await {
                    Ok(r) if r.status() == 201 => acked.lock().unwrap().push(name),
                    Ok(r) => panic!("unexpected {}", r.status()),
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    server.kill();
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 10, "only {} writes before the crash", acked.len());

    let _restarted = Server::start(&db, &[]).unwrap();
    let list = cli(&db, &["user", "list", "--json"], None);
    let users: Vec<serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
    let names: std::collections::HashSet<&str> = users.iter().map(|u| u["username"].as_str().unwrap()).collect();
    let lost: Vec<&String> = acked.iter().filter(|a| !names.contains(a.as_str())).collect();
    assert!(lost.is_empty(), "{} acknowledged writes lost: {lost:?}", lost.len());
    let verify = cli(&db, &["audit", "verify"], None);
    assert!(verify.status.success(), "{}", text(&verify.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_every_acknowledged_write_across_sigkill() {
    crash_mid_writes(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_every_acknowledged_write_across_sigkill() {
    crash_mid_writes(true).await;
}
