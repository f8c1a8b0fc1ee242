//! `GET /api/v1/events`: Server-Sent Events of order transitions, fills and the broker link's
//! state. Order and fill events carry the journal's sequence number as their id, so a client
//! that reconnects with `Last-Event-ID` (or `?since=`) gets everything it missed, from the
//! journal, before the live events resume.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use app::domain::BrokerState;

use super::error::{AppError, ErrorCode};
use crate::auth::routes::Routes;
use crate::auth::{Access, Role};
use crate::desk::{Change, Desk};
use crate::journal::orders::JournalEvent;
use crate::state::AppState;

/// Events read from the journal per query while catching up.
const REPLAY_BATCH: i64 = 500;
/// Comment lines that keep idle connections (and proxies) alive.
const HEARTBEAT: Duration = Duration::from_secs(15);

/// The event stream route.
pub fn routes() -> Routes {
    Routes::new().get("/api/v1/events", Access::Role(Role::Viewer), events)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Since {
    since: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(Since,
        ("last-event-id" = Option<i64>, Header, description = "Resume after this sequence number")),
    responses(
        (status = 200, description = "Server-Sent Events: order transitions, fills, broker state; id = sequence number; heartbeats every 15 s", content_type = "text/event-stream", body = String),
        (status = 400, description = "`BAD_REQUEST`: Last-Event-ID is not a sequence number", body = super::error::Envelope),
    ))]
async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<Since>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let from_header = headers
        .get("last-event-id")
        .map(|v| v.to_str().ok().and_then(|s| s.trim().parse::<i64>().ok()))
        .map(|parsed| {
            parsed.ok_or_else(|| {
                AppError::new(
                    ErrorCode::BadRequest,
                    "Last-Event-ID must be an event sequence number",
                )
            })
        })
        .transpose()?;
    let desk = Arc::clone(&state.desk);
    // Without a position, start from now: the client wants what happens next.
    let cursor = match from_header.or(query.since) {
        Some(since) => since.max(0),
        None => desk.last_event_seq().await?,
    };
    let stream = EventStream::new(desk, cursor);
    Ok(Sse::new(stream.into_stream()).keep_alive(KeepAlive::new().interval(HEARTBEAT)))
}

/// The per-client state: where it is in the journal, and the live feeds.
struct EventStream {
    desk: Arc<Desk>,
    cursor: i64,
    pending: VecDeque<Event>,
    live: tokio::sync::broadcast::Receiver<Change>,
    broker: tokio::sync::watch::Receiver<BrokerState>,
    /// Catch up from the journal before (and whenever) live events may have been missed.
    replay: bool,
}

impl EventStream {
    fn new(desk: Arc<Desk>, cursor: i64) -> Self {
        // Subscribe before replaying: anything recorded meanwhile arrives live and is
        // skipped by the cursor if the replay already delivered it.
        let live = desk.subscribe();
        let mut broker = desk.watch_broker();
        broker.mark_changed();
        Self {
            desk,
            cursor,
            pending: VecDeque::new(),
            live,
            broker,
            replay: true,
        }
    }

    fn into_stream(self) -> impl Stream<Item = Result<Event, Infallible>> {
        futures::stream::unfold(self, |mut s| async move {
            let event = s.next_event().await?;
            Some((Ok(event), s))
        })
    }

    async fn next_event(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            if self.replay {
                match self.desk.journal_events(self.cursor, REPLAY_BATCH).await {
                    Ok(batch) => {
                        self.replay = batch.len() as i64 == REPLAY_BATCH;
                        for e in batch {
                            self.cursor = e.seq;
                            self.pending.push_back(journal_event(&e));
                        }
                        continue;
                    }
                    Err(err) => {
                        tracing::error!(error = %err, "event stream cannot read the journal; closing it");
                        return None;
                    }
                }
            }
            tokio::select! {
                change = self.live.recv() => match change {
                    Ok(Change::Order { seq, .. } | Change::Fill { seq, .. }) if seq <= self.cursor => {}
                    // Journaled changes are read back from the journal, in sequence order.
                    Ok(_) | Err(RecvError::Lagged(_)) => self.replay = true,
                    Err(RecvError::Closed) => return None,
                },
                changed = self.broker.changed() => {
                    changed.ok()?;
                    let state = *self.broker.borrow_and_update();
                    let data = json!({ "broker_state": state, "ib_gateway_connected": state.is_connected() });
                    return Event::default().event("connection").json_data(data).ok();
                }
            }
        }
    }
}

fn journal_event(e: &JournalEvent) -> Event {
    let name = if e.kind == "fill" { "fill" } else { "order" };
    let mut data = e.detail.clone();
    if let Some(map) = data.as_object_mut() {
        map.insert("seq".to_owned(), json!(e.seq));
        map.insert("kind".to_owned(), json!(e.kind));
        map.insert(
            "recorded_at".to_owned(),
            json!(
                e.created_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            ),
        );
    }
    Event::default()
        .id(e.seq.to_string())
        .event(name)
        .json_data(data)
        .unwrap_or_else(|_| {
            Event::default()
                .id(e.seq.to_string())
                .event(name)
                .data("{}")
        })
}
