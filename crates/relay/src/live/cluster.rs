//! Live streams across nodes, through Redis pub/sub (one channel, `shotline:live`). A
//! node tells the others how many watch each stream there (when it changes and every
//! two seconds while anyone does); the node the engine publishes to forwards each
//! picture only while another node has viewers, and a node passes on only the pictures
//! of streams watched there. Pictures are never stored: a viewer who joins gets the next.
//!
//! Messages: `C<node>\n<channel>\n<count>` and `F<node>\n<channel>\n<seq>\n<taken_ms>\n`
//! followed by the JPEG.

use std::time::Duration;

use bytes::Bytes;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client};

use super::streams::{Picture, Streams};

/// The pub/sub channel.
const CHANNEL: &str = "shotline:live";

/// This node's link to the others.
pub struct Cluster {
    client: Client,
    conn: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    /// This node's name in the messages.
    pub node: String,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").field("node", &self.node).finish()
    }
}

/// A message from another node.
#[derive(Debug, PartialEq)]
enum Message {
    Count {
        node: String,
        channel: String,
        count: usize,
    },
    Picture {
        node: String,
        channel: String,
        picture_seq: u64,
        taken_ms: i64,
        jpeg: Bytes,
    },
}

fn encode_count(node: &str, channel: &str, count: usize) -> Vec<u8> {
    format!("C{node}\n{channel}\n{count}").into_bytes()
}

fn encode_picture(node: &str, channel: &str, picture: &Picture) -> Vec<u8> {
    let mut out = format!(
        "F{node}\n{channel}\n{}\n{}\n",
        picture.seq, picture.taken_ms
    )
    .into_bytes();
    out.extend_from_slice(&picture.jpeg);
    out
}

fn decode(payload: &[u8]) -> Option<Message> {
    let (&kind, rest) = payload.split_first()?;
    let mut fields = rest.splitn(
        match kind {
            b'C' => 3,
            b'F' => 5,
            _ => return None,
        },
        |&b| b == b'\n',
    );
    let mut text = || -> Option<String> { String::from_utf8(fields.next()?.to_vec()).ok() };
    let node = text()?;
    let channel = text()?;
    match kind {
        b'C' => Some(Message::Count {
            node,
            channel,
            count: text()?.parse().ok()?,
        }),
        _ => {
            let picture_seq = text()?.parse().ok()?;
            let taken_ms = text()?.parse().ok()?;
            let jpeg = Bytes::copy_from_slice(fields.next()?);
            Some(Message::Picture {
                node,
                channel,
                picture_seq,
                taken_ms,
                jpeg,
            })
        }
    }
}

impl Cluster {
    /// A link to the Redis at `url` (connected on first use).
    pub fn open(url: &str) -> Result<Self, String> {
        Ok(Self {
            client: Client::open(url).map_err(|e| e.to_string())?,
            conn: tokio::sync::Mutex::new(None),
            node: format!("{:016x}", rand::random::<u64>()),
        })
    }

    async fn publish(&self, payload: Vec<u8>) {
        let mut slot = self.conn.lock().await;
        if slot.is_none() {
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(Duration::from_secs(2)))
                .set_response_timeout(Some(Duration::from_secs(3)));
            match self
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await
            {
                Ok(conn) => *slot = Some(conn),
                Err(e) => {
                    tracing::debug!("live: redis: {e}");
                    return;
                }
            }
        }
        let Some(mut conn) = slot.clone() else {
            return;
        };
        drop(slot);
        let sent: redis::RedisResult<()> = redis::cmd("PUBLISH")
            .arg(CHANNEL)
            .arg(payload)
            .query_async(&mut conn)
            .await;
        if let Err(e) = sent {
            tracing::debug!("live: redis publish: {e}");
            if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() {
                *self.conn.lock().await = None;
            }
        }
    }

    /// Tell the others this node has `count` viewers of `channel`.
    pub async fn count(&self, channel: &str, count: usize) {
        self.publish(encode_count(&self.node, channel, count)).await;
    }

    /// Pass a picture to the nodes that have viewers.
    pub async fn picture(&self, channel: &str, picture: &Picture) {
        self.publish(encode_picture(&self.node, channel, picture))
            .await;
    }

    /// Hear the other nodes until the link is lost; returns why.
    pub async fn listen(&self, streams: &Streams) -> String {
        let pubsub = tokio::time::timeout(Duration::from_secs(3), self.client.get_async_pubsub());
        let mut pubsub = match pubsub.await {
            Ok(Ok(pubsub)) => pubsub,
            Ok(Err(e)) => return e.to_string(),
            Err(_) => return "connecting for pub/sub timed out".into(),
        };
        if let Err(e) = pubsub.subscribe(CHANNEL).await {
            return e.to_string();
        }
        let mut messages = pubsub.on_message();
        while let Some(message) = futures_util::StreamExt::next(&mut messages).await {
            match decode(message.get_payload_bytes()) {
                Some(Message::Count {
                    node,
                    channel,
                    count,
                }) if node != self.node => {
                    // A count for a stream nobody here publishes or watches is kept only
                    // if the stream is here (a publisher connecting learns it within 2 s).
                    if let Some(stream) = streams.find(&channel) {
                        stream.set_remote(&node, count);
                    }
                }
                Some(Message::Picture {
                    node,
                    channel,
                    picture_seq,
                    taken_ms,
                    jpeg,
                }) if node != self.node => {
                    if let Some(stream) = streams.find(&channel).filter(|s| s.local() > 0) {
                        stream.put_picture(Picture {
                            seq: picture_seq,
                            taken_ms,
                            jpeg,
                        });
                    }
                }
                Some(_) => {}
                None => tracing::debug!("live: a message from another node not understood"),
            }
        }
        "the pub/sub link closed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        assert_eq!(
            decode(&encode_count("n1", "s:live", 7)),
            Some(Message::Count {
                node: "n1".into(),
                channel: "s:live".into(),
                count: 7
            })
        );
        let picture = Picture {
            seq: 3,
            taken_ms: 1_700_000_000_000,
            jpeg: Bytes::from_static(b"\xff\xd8\n\nbinary\n\xff\xd9"),
        };
        assert_eq!(
            decode(&encode_picture("n1", "s:live", &picture)),
            Some(Message::Picture {
                node: "n1".into(),
                channel: "s:live".into(),
                picture_seq: 3,
                taken_ms: 1_700_000_000_000,
                jpeg: picture.jpeg.clone(),
            })
        );
        assert_eq!(decode(b"Xjunk"), None);
        assert_eq!(decode(b"Cn1\ns:live\nmany"), None);
        assert_eq!(decode(b""), None);
    }
}
