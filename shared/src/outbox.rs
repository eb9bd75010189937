//! The events of one payment as an outbox: written with the state change
//! that caused them, delivered in order, retried with exponential backoff
//! for more than three days, then given up (and the endpoint disabled).

use serde::{Deserialize, Serialize};

/// Seconds to wait after the n-th failed attempt before the next one.
/// Attempts happen at +0, 5 s, 5 min 5 s, 35 min 5 s, 2 h 35 min, 7 h 35 min,
/// 17 h 35 min, 27 h 35 min, 41 h 35 min, 65 h 35 min and 89 h 35 min
/// (3 days 17 h 35 min) after the event; after the 11th failure the endpoint
/// is paused and the event waits (nothing is ever given up).
pub const RETRY_DELAYS: [i64; 10] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000, 50_400, 86_400, 86_400];

/// How many attempts an event gets.
pub const MAX_ATTEMPTS: usize = RETRY_DELAYS.len() + 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not delivered yet; `next_at` says when to try.
    Pending,
    /// A 2xx answer was received.
    Delivered,
    /// Not for the outbox to deliver: a synchronous result notification
    /// the merchant did not accept (records from before `Waiting` too).
    GaveUp,
    /// Records from before `Waiting`: treated as waiting.
    NoEndpoint,
    /// Waits for an endpoint: the merchant has no webhook URL, or it was
    /// paused after the schedule ran out. Delivered, in order, with a fresh
    /// schedule once the URL is set again.
    Waiting,
}

impl DeliveryState {
    /// Whether the outbox still owes this event to the merchant.
    pub fn owed(self) -> bool {
        matches!(self, DeliveryState::Pending | DeliveryState::Waiting | DeliveryState::NoEndpoint)
    }
}

/// One try to deliver an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptRecord {
    pub at: i64,
    pub url: String,
    pub status: Option<u16>,
    pub latency_ms: u32,
    pub excerpt: String,
    /// Sent by hand (re-send), outside the schedule.
    #[serde(default)]
    pub manual: bool,
}

impl AttemptRecord {
    pub fn succeeded(&self) -> bool {
        matches!(self.status, Some(s) if (200..300).contains(&s))
    }
}

/// An event of a payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Stable: the same `webhook-id` on every attempt.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created_at: i64,
    pub data: serde_json::Value,
    pub state: DeliveryState,
    pub next_at: Option<i64>,
    pub attempts: Vec<AttemptRecord>,
    /// Attempts before the current schedule (a resume starts a new one).
    #[serde(default)]
    pub schedule_from: usize,
}

impl Event {
    pub fn new(id: String, kind: &str, created_at: i64, data: serde_json::Value) -> Event {
        Event { id, kind: kind.to_string(), created_at, data, state: DeliveryState::Pending, next_at: Some(created_at), attempts: vec![], schedule_from: 0 }
    }

    /// The payload that is signed and sent.
    pub fn payload(&self, timestamp_rfc3339: &str) -> String {
        serde_json::json!({"id": self.id, "type": self.kind, "timestamp": timestamp_rfc3339, "data": self.data}).to_string()
    }

    fn scheduled_attempts(&self) -> usize {
        self.attempts.iter().skip(self.schedule_from).filter(|a| !a.manual).count()
    }

    /// Records a scheduled attempt and moves the event on.
    pub fn record(&mut self, attempt: AttemptRecord) {
        let ok = attempt.succeeded();
        let at = attempt.at;
        self.attempts.push(attempt);
        if ok {
            self.state = DeliveryState::Delivered;
            self.next_at = None;
            return;
        }
        let n = self.scheduled_attempts();
        if n >= MAX_ATTEMPTS {
            self.state = DeliveryState::Waiting;
            self.next_at = None;
        } else {
            self.next_at = Some(at + RETRY_DELAYS[n - 1]);
        }
    }

    /// Records a re-send by hand: delivered if it succeeded, otherwise
    /// nothing about the schedule changes.
    pub fn record_manual(&mut self, mut attempt: AttemptRecord) {
        attempt.manual = true;
        if attempt.succeeded() {
            self.state = DeliveryState::Delivered;
            self.next_at = None;
        }
        self.attempts.push(attempt);
    }
}

/// The event to attempt now, in order: the first one not finished, if it
/// is due. Later events wait for earlier ones.
pub fn due(events: &[Event], now: i64) -> Option<usize> {
    let i = events.iter().position(|e| e.state.owed())?;
    (events[i].state == DeliveryState::Pending && events[i].next_at.is_some_and(|t| t <= now)).then_some(i)
}

/// When the next delivery is due (`None` while the first owed event waits
/// for an endpoint, or nothing is owed).
pub fn next_due(events: &[Event]) -> Option<i64> {
    events.iter().find(|e| e.state.owed()).filter(|e| e.state == DeliveryState::Pending).and_then(|e| e.next_at)
}

/// Whether delivery waits for an endpoint.
pub fn waiting(events: &[Event]) -> bool {
    events.iter().find(|e| e.state.owed()).is_some_and(|e| e.state != DeliveryState::Pending)
}

/// Parks every owed event until an endpoint is set.
pub fn park(events: &mut [Event]) {
    for e in events.iter_mut().filter(|e| e.state.owed()) {
        e.state = DeliveryState::Waiting;
        e.next_at = None;
    }
}

/// An endpoint is set again: every waiting event is due now, in order,
/// with a fresh retry schedule.
pub fn resume(events: &mut [Event], now: i64) {
    for e in events.iter_mut().filter(|e| matches!(e.state, DeliveryState::Waiting | DeliveryState::NoEndpoint)) {
        e.state = DeliveryState::Pending;
        e.next_at = Some(now);
        e.schedule_from = e.attempts.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(at: i64, status: Option<u16>) -> AttemptRecord {
        AttemptRecord { at, url: "http://m/".into(), status, latency_ms: 1, excerpt: String::new(), manual: false }
    }

    #[test]
    fn the_schedule_lasts_more_than_three_days() {
        let total: i64 = RETRY_DELAYS.iter().sum();
        assert!(total > 3 * 86_400, "{total}");
        assert_eq!(total, 89 * 3600 + 35 * 60 + 5);
        assert!(RETRY_DELAYS.windows(2).all(|w| w[0] <= w[1]), "never shrinks");
    }

    #[test]
    fn retries_follow_the_schedule_then_give_up() {
        let mut e = Event::new("evt_1".into(), "payment.paid", 1000, serde_json::json!({}));
        let mut now = 1000;
        for (n, delay) in RETRY_DELAYS.iter().enumerate() {
            assert_eq!(due(std::slice::from_ref(&e), now), Some(0), "attempt {n}");
            e.record(attempt(now, if n % 2 == 0 { None } else { Some(500) }));
            assert_eq!(e.next_at, Some(now + delay));
            assert_eq!(due(std::slice::from_ref(&e), now + delay - 1), None);
            now += delay;
        }
        e.record(attempt(now, Some(404)));
        assert_eq!(e.state, DeliveryState::Waiting, "never given up: it waits for the endpoint");
        assert_eq!(e.attempts.len(), MAX_ATTEMPTS);
        let mut events = vec![e];
        assert_eq!(due(&events, now + 1_000_000), None);
        assert!(waiting(&events));
        resume(&mut events, now + 2_000_000);
        assert_eq!(due(&events, now + 2_000_000), Some(0), "due at once after the resume");
        events[0].record(attempt(now + 2_000_000, Some(500)));
        assert_eq!(events[0].next_at, Some(now + 2_000_000 + RETRY_DELAYS[0]), "a fresh schedule");
    }

    #[test]
    fn events_wait_for_an_endpoint_in_order_and_are_never_lost() {
        let mut events = vec![
            Event::new("evt_a".into(), "payment.paid", 10, serde_json::json!({})),
            Event::new("evt_b".into(), "payment.refunded", 11, serde_json::json!({})),
        ];
        park(&mut events);
        assert!(waiting(&events));
        assert_eq!(due(&events, 1_000), None);
        assert_eq!(next_due(&events), None);
        events.push(Event::new("evt_c".into(), "payment.refunded", 12, serde_json::json!({})));
        assert_eq!(due(&events, 1_000), None, "a later event does not overtake waiting ones");
        resume(&mut events, 2_000);
        assert_eq!(due(&events, 2_000), Some(0));
        events[0].record(attempt(2_000, Some(200)));
        assert_eq!(due(&events, 2_000), Some(1));
    }

    #[test]
    fn delivery_is_in_order() {
        let a = Event::new("evt_a".into(), "payment.paid", 10, serde_json::json!({}));
        let b = Event::new("evt_b".into(), "payment.refunded", 11, serde_json::json!({}));
        let mut events = vec![a, b];
        assert_eq!(due(&events, 20), Some(0));
        events[0].record(attempt(20, Some(503)));
        assert_eq!(due(&events, 21), None, "b waits for a's retry");
        assert_eq!(next_due(&events), Some(25));
        events[0].record(attempt(25, Some(200)));
        assert_eq!(events[0].state, DeliveryState::Delivered);
        assert_eq!(due(&events, 25), Some(1));
    }

    #[test]
    fn a_manual_resend_does_not_consume_the_schedule() {
        let mut e = Event::new("evt_1".into(), "payment.paid", 0, serde_json::json!({"x": 1}));
        e.record(attempt(0, Some(500)));
        e.record_manual(attempt(1, Some(500)));
        assert_eq!(e.next_at, Some(5));
        e.record_manual(attempt(2, Some(204)));
        assert_eq!(e.state, DeliveryState::Delivered);
        assert!(e.attempts[2].manual);
        let p: serde_json::Value = serde_json::from_str(&e.payload("2026-11-23T00:00:00Z")).unwrap();
        assert_eq!(p["id"], "evt_1");
        assert_eq!(p["type"], "payment.paid");
        assert_eq!(p["data"]["x"], 1);
    }
}
