//! Publishes in flight on one connection, and what each answer of the relay means for
//! them. The relay answers every publish, in order, with an `ack` or an `error`, so the
//! oldest entry is the one an `error` is about.

use std::collections::VecDeque;
use std::time::Duration;

use shotline_protocol::relay::{ErrorCode, RelayFrame};

/// Publishes sent and not yet answered, in the order sent.
#[derive(Debug, Default)]
pub(super) struct InFlight {
    /// (event id, outbox seq).
    pub sent: VecDeque<(String, i64)>,
    /// The first publish refused for now, to be sent again (with everything after it)
    /// once every answer is in and the pause is over.
    pub refused: Option<i64>,
    /// How long to pause before sending again.
    pub pause: Duration,
    /// The relay refused the token itself (expired, revoked, not covering a channel):
    /// nothing more will be taken on this connection.
    pub token_refused: Option<(ErrorCode, String)>,
}

/// What an `error` answer means for the publish it refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// Too fast, or the relay busy: send it again after a pause.
    Retry(Duration),
    /// The token is at fault: keep the event, reconnect later (perhaps with a new token).
    Token,
    /// The relay will never take it (a malformed event): log it and let it go, so one bad
    /// event cannot hold back every later one.
    Drop,
}

fn refusal(code: ErrorCode) -> Refusal {
    if code.is_retryable() {
        Refusal::Retry(if code == ErrorCode::RateLimited {
            // The relay refuses everything for a second after a refusal.
            Duration::from_millis(1100)
        } else {
            Duration::from_millis(500)
        })
    } else if code.is_auth() {
        Refusal::Token
    } else {
        Refusal::Drop
    }
}

impl InFlight {
    /// Take one answer; the seqs acknowledged (or given up on) go to `acked`.
    pub fn answer(&mut self, frame: &RelayFrame, acked: &mut Vec<i64>) {
        match frame {
            RelayFrame::Ack { id, .. } => {
                if let Some(at) = self.sent.iter().position(|(sent, _)| sent == id) {
                    // Answers come in order; anything before it was answered already.
                    if let Some((_, seq)) = self.sent.remove(at) {
                        acked.push(seq);
                    }
                }
            }
            RelayFrame::Error { code, message } => {
                let Some((id, seq)) = self.sent.pop_front() else {
                    return;
                };
                match refusal(*code) {
                    Refusal::Drop => {
                        tracing::error!(
                            "the relay will never take event {id} ({code}: {message}); it is dropped"
                        );
                        acked.push(seq);
                    }
                    Refusal::Retry(pause) => {
                        if self.refused.is_none() {
                            tracing::warn!("relay refused event {id}: {message}; pausing");
                        }
                        self.refuse(seq);
                        self.pause = self.pause.max(pause);
                    }
                    Refusal::Token => {
                        self.refuse(seq);
                        self.token_refused
                            .get_or_insert_with(|| (*code, message.clone()));
                    }
                }
            }
            _ => {}
        }
    }

    fn refuse(&mut self, seq: i64) {
        self.refused = Some(self.refused.map_or(seq, |r| r.min(seq)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(code: ErrorCode) -> RelayFrame {
        RelayFrame::Error {
            code,
            message: "no".into(),
        }
    }

    fn ack(id: &str) -> RelayFrame {
        RelayFrame::Ack {
            id: id.into(),
            offset: 1,
        }
    }

    fn flight(n: i64) -> InFlight {
        let mut flight = InFlight::default();
        for seq in 1..=n {
            flight.sent.push_back((format!("j-{seq}"), seq));
        }
        flight
    }

    #[test]
    fn answers_in_order_find_the_first_refused_event() {
        let mut flight = flight(5);
        let mut acked = Vec::new();
        flight.answer(&ack("j-1"), &mut acked);
        flight.answer(&ack("j-2"), &mut acked);
        flight.answer(&error(ErrorCode::RateLimited), &mut acked);
        flight.answer(&RelayFrame::Pong, &mut acked);
        flight.answer(&error(ErrorCode::RateLimited), &mut acked);
        flight.answer(&error(ErrorCode::InvalidEvent), &mut acked);
        assert_eq!(acked, [1, 2, 5], "a malformed event is let go");
        assert_eq!(flight.refused, Some(3), "resent from the first refused");
        assert!(flight.sent.is_empty());
        assert!(flight.pause >= Duration::from_secs(1));
        assert!(flight.token_refused.is_none());
    }

    #[test]
    fn a_refused_token_keeps_every_event() {
        let mut flight = flight(3);
        let mut acked = Vec::new();
        flight.answer(&ack("j-1"), &mut acked);
        flight.answer(&error(ErrorCode::Revoked), &mut acked);
        flight.answer(&error(ErrorCode::Forbidden), &mut acked);
        assert_eq!(acked, [1]);
        assert_eq!(flight.refused, Some(2));
        assert_eq!(
            flight.token_refused.as_ref().map(|t| t.0),
            Some(ErrorCode::Revoked)
        );
    }
}
