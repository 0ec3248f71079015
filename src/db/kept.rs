//! Connections a run keeps between its units instead of handing them back
//! to the pool after each one.
//!
//! sqlx's pool tests every connection it gets back with a round trip (a
//! `Sync`), and hands it back on a task of its own: the next unit, started
//! at once, finds it still away and takes another connection, whose
//! statement cache has never seen the unit's statements, so each one is
//! parsed and described again. A run of N jobs keeps at most N connections
//! here, each with its cache warm, and returns them to the pool when it is
//! dropped.

use sqlx::pool::PoolConnection;
use sqlx::postgres::PgPool;
use sqlx::Postgres;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A kept connection idle for longer than this goes back to the pool, which
/// pings it before its next use (a server or pooler may have closed it).
const KEEP_IDLE_FOR: Duration = super::PING_IDLE_AFTER;

/// A kept connection and since when it has been idle.
type Idle = (PoolConnection<Postgres>, Instant);

/// The pool and the connections kept from it; clones share both.
#[derive(Clone)]
pub struct KeptConnections {
    pool: PgPool,
    idle: Arc<Mutex<Vec<Idle>>>,
}

impl KeptConnections {
    pub fn new(pool: PgPool) -> KeptConnections {
        KeptConnections {
            pool,
            idle: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The connection kept last (its statements are the most likely to be
    /// cached), else one from the pool.
    pub async fn acquire(&self) -> Result<PoolConnection<Postgres>, sqlx::Error> {
        let fresh = {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            // Stale ones are dropped here: back to the pool, which tests them.
            idle.retain(|(_, since)| since.elapsed() < KEEP_IDLE_FOR);
            idle.pop()
        };
        match fresh {
            Some((conn, _)) => Ok(conn),
            None => self.pool.acquire().await,
        }
    }

    /// Keeps a connection that is idle and outside any transaction.
    pub fn keep(&self, conn: PoolConnection<Postgres>) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.push((conn, Instant::now()));
    }
}
