//! Contract tests of the gateway simulator, driven over TCP by the real `ibapi` client.

mod sim_support;

use std::time::Duration;

use sim_support::{RawClient, Sim};

#[tokio::test]
async fn handshake_gives_accounts_next_id_and_server_time() {
    let sim = Sim::start().await;
    let client = sim.connect(1).await;
    assert!(
        client.server_version() >= 213,
        "protobuf protocol negotiated"
    );
    assert_eq!(
        client.handshake_managed_accounts(),
        ["DU1234567".to_string()]
    );
    assert!(client.next_order_id() >= 1);

    let time = client
        .server_time()
        .await
        .expect("server time")
        .unix_timestamp();
    let now = chrono::Utc::now().timestamp();
    assert!((now - time).abs() < 5, "server time {time} is now ({now})");

    let accounts = client.managed_accounts().await.expect("managed accounts");
    assert_eq!(accounts, ["DU1234567".to_string()]);
    let next = client.next_valid_order_id().await.expect("next valid id");
    assert!(next >= 1);
}

#[tokio::test]
async fn duplicate_client_id_is_refused_with_326() {
    let sim = Sim::start().await;
    let _first = sim.connect(7).await;
    let second = ibapi::Client::connect(&sim.addr.to_string(), 7).await;
    match second {
        Err(ibapi::Error::ClientIdInUse { client_id }) => assert_eq!(client_id, 7),
        Err(other) => panic!("expected ClientIdInUse, got {other:?}"),
        Ok(_) => panic!("a second connection with client id 7 was accepted"),
    }
    // Another id still connects, and the first connection is unaffected.
    let third = sim.connect(8).await;
    assert!(third.server_time().await.is_ok());
    assert!(_first.server_time().await.is_ok());
}

#[tokio::test]
async fn client_id_is_free_again_after_disconnect() {
    let sim = Sim::start().await;
    let first = sim.connect(9).await;
    first.disconnect().await;
    drop(first);
    let mut again = None;
    for _ in 0..50 {
        if let Ok(client) = ibapi::Client::connect(&sim.addr.to_string(), 9).await {
            again = Some(client);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(again.is_some(), "client id 9 was never released");
}

#[tokio::test]
async fn unknown_message_gets_an_error_and_the_connection_stays_up() {
    let sim = Sim::start().await;
    let mut raw = RawClient::connect(sim.addr, 213, 226, 3).await;
    assert_eq!(raw.version, 222);
    raw.send_protobuf(4242, &[]).await;
    let error = raw.expect_error(|code| code == 321).await;
    assert!(
        error.1.contains("4242"),
        "names the message id: {}",
        error.1
    );
    raw.send_protobuf(49, &[]).await;
    raw.expect_message(49).await;
}

#[tokio::test]
async fn text_clients_get_version_178_and_bad_ranges_are_closed() {
    let sim = Sim::start().await;
    let text = RawClient::handshake_only(sim.addr, "v157..178").await;
    assert_eq!(text.expect("text range is served").0, 178);
    let old = RawClient::handshake_only(sim.addr, "v100..190").await;
    assert_eq!(old.expect("v100..190 is served as text").0, 178);
    assert!(
        RawClient::handshake_only(sim.addr, "v201..210")
            .await
            .is_none(),
        "201..212 refused"
    );
    assert!(
        RawClient::handshake_only(sim.addr, "v100..150")
            .await
            .is_none(),
        "too old refused"
    );
}
