//! The purchase request's one write, group-committed: the new payment's
//! row in D1, which reserves its order id (unique per merchant, a D1
//! constraint).
//!
//! A D1 call has a fixed cost much larger than one more row in it, so the
//! purchase requests that arrive while a write is on its way wait for the
//! next one and go in together (one statement, one transaction:
//! `store::insert_payments`). Under no load
//! a request writes alone, at once, as before.
//!
//! * **Who writes.** A request that finds no writer starts one, under its
//!   own `waitUntil` (so the write and the answers it owes others outlive
//!   the request, should its shopper go away). The writer takes up to
//!   [`MAX_BATCH`] queued rows per call (the first call at once, each later
//!   one after [`GATHER_MS`] more), answers each row's request, and
//!   goes on while rows wait, for at most [`HAND_OVER_MS`]; then it hands
//!   the writing to the oldest waiting request, which starts a writer in its
//!   own context. So no request's context writes for others for long.
//! * **Each answer once.** A row is taken out of the queue by exactly one
//!   writer (single-threaded isolate, no await between looking and taking),
//!   and that writer answers it with the row's own result: `true` written,
//!   `false` its order id was used before (by an earlier payment, or an
//!   earlier row of the same batch).
//! * **A bad row harms no other.** If a batch fails, no row of it was
//!   written (one transaction); each is then written alone, so only the bad
//!   row's request gets the error.
//! * **No wait without end.** A waiting request also wakes on its own timer
//!   ([`WAIT_MS`]). If its row is still queued (no writer came), it leaves
//!   the queue and writes alone; if its row is in a batch still on its way,
//!   it waits once more, then answers an error (the write's outcome is
//!   unknown to it; the merchant's retry with the same order id is refused
//!   if it was written, accepted if not). A writer silent for [`WAIT_MS`]
//!   no longer holds off others from starting one.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use futures_util::future::{select, Either};
use js_sys::{Function, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use worker::{Context, Env};

use crate::payment_do::Payment;
use crate::store::{self, NewPayment};

/// Rows per D1 call at most.
pub const MAX_BATCH: usize = 32;
/// How long one writer goes on writing others' rows before handing over.
pub const HAND_OVER_MS: f64 = 200.0;
/// How long the writer lets rows gather before each call after its first.
pub const GATHER_MS: u64 = 5;
/// How long a request waits for its answer before it acts on its own.
pub const WAIT_MS: u64 = 10_000;

enum Outcome {
    Waiting,
    /// Start a writer (the previous one handed over).
    Write,
    Done(Result<bool, String>),
}

/// One request's place: what it is told, and how it is woken.
struct Slot {
    outcome: RefCell<Outcome>,
    wake: RefCell<Option<Function>>,
}

impl Slot {
    fn tell(&self, outcome: Outcome) {
        *self.outcome.borrow_mut() = outcome;
        if let Some(wake) = self.wake.borrow_mut().take() {
            let _ = wake.call0(&JsValue::UNDEFINED);
        }
    }
}

struct Entry {
    row: NewPayment,
    slot: Rc<Slot>,
}

#[derive(Default)]
struct Queue {
    /// When the current writer last started or wrote (`None`: no writer).
    writer_seen: Option<f64>,
    rows: Vec<Entry>,
}

thread_local! {
    static QUEUE: RefCell<Queue> = RefCell::default();
}

/// A new payment's row in D1, written at `now`.
pub fn row(payment: &Payment, now: i64) -> worker::Result<NewPayment> {
    Ok(NewPayment {
        payment_id: payment.id.clone(),
        merchant_id: payment.merchant_id.clone(),
        service_id: payment.service_id.clone(),
        order_id: payment.order_id.clone(),
        amount: payment.amount.get(),
        now,
        due_at: payment.expires_at,
        record: serde_json::to_string(payment)?,
    })
}

/// Writes `row` (with the rows of concurrent purchase requests): `Ok(false)`
/// if its order id was used before.
pub async fn reserve(env: &Env, ctx: &Context, sandbox: bool, row: NewPayment) -> worker::Result<bool> {
    let slot = Rc::new(Slot { outcome: RefCell::new(Outcome::Waiting), wake: RefCell::new(None) });
    let start_writer = QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        q.rows.push(Entry { row, slot: slot.clone() });
        let now = js_sys::Date::now();
        let idle = q.writer_seen.is_none_or(|seen| now - seen > WAIT_MS as f64);
        if idle {
            q.writer_seen = Some(now);
        }
        idle
    });
    if start_writer {
        ctx.wait_until(write(env.clone(), sandbox));
    }
    let mut patience = 2;
    loop {
        wait(&slot).await?;
        let outcome = std::mem::replace(&mut *slot.outcome.borrow_mut(), Outcome::Waiting);
        match outcome {
            Outcome::Done(result) => return result.map_err(worker::Error::RustError),
            Outcome::Write => ctx.wait_until(write(env.clone(), sandbox)),
            Outcome::Waiting => {
                // Woken by the timer.
                let mine = QUEUE.with(|q| {
                    let mut q = q.borrow_mut();
                    let at = q.rows.iter().position(|e| Rc::ptr_eq(&e.slot, &slot))?;
                    Some(q.rows.remove(at))
                });
                if let Some(entry) = mine {
                    let db = store::db(env, sandbox).await?;
                    return store::insert_payment(&db, &entry.row).await;
                }
                patience -= 1;
                if patience == 0 {
                    return Err(worker::Error::RustError("the order id's write did not answer in time".into()));
                }
            }
        }
    }
}

/// Until the slot is told something, or its timer runs out. The promise is
/// made in the waiting request's own context, so however it is resolved,
/// the request goes on in its own context.
async fn wait(slot: &Slot) -> worker::Result<()> {
    if !matches!(*slot.outcome.borrow(), Outcome::Waiting) {
        return Ok(());
    }
    let mut resolve = None;
    let promise = Promise::new(&mut |r, _| resolve = Some(r));
    *slot.wake.borrow_mut() = resolve;
    let timer = worker::Delay::from(Duration::from_millis(WAIT_MS));
    let told = select(JsFuture::from(promise), timer).await;
    slot.wake.borrow_mut().take();
    match told {
        Either::Left((result, _)) => result.map(|_| ()).map_err(worker::Error::from),
        Either::Right(_) => Ok(()),
    }
}

/// The writer: batches of queued rows until none is left or it is time to
/// hand over.
async fn write(env: Env, sandbox: bool) {
    let started = js_sys::Date::now();
    let mut first = true;
    loop {
        // The first call at once (no load, no wait); then, as rows were
        // waiting (load), a few milliseconds for more to come.
        if !std::mem::take(&mut first) {
            worker::Delay::from(Duration::from_millis(GATHER_MS)).await;
        }
        let batch: Vec<Entry> = QUEUE.with(|q| {
            let mut q = q.borrow_mut();
            let n = q.rows.len().min(MAX_BATCH);
            if n == 0 {
                q.writer_seen = None;
            } else {
                q.writer_seen = Some(js_sys::Date::now());
            }
            q.rows.drain(..n).collect()
        });
        if batch.is_empty() {
            return;
        }
        let results = write_batch(&env, sandbox, &batch).await;
        for (entry, result) in batch.iter().zip(results) {
            entry.slot.tell(Outcome::Done(result));
        }
        if js_sys::Date::now() - started > HAND_OVER_MS {
            QUEUE.with(|q| {
                let mut q = q.borrow_mut();
                q.writer_seen = q.rows.first().map(|next| {
                    next.slot.tell(Outcome::Write);
                    js_sys::Date::now()
                });
            });
            return;
        }
    }
}

async fn write_batch(env: &Env, sandbox: bool, batch: &[Entry]) -> Vec<Result<bool, String>> {
    let db = match store::db(env, sandbox).await {
        Ok(db) => db,
        Err(e) => return batch.iter().map(|_| Err(e.to_string())).collect(),
    };
    if batch.len() > 1 {
        let rows: Vec<&NewPayment> = batch.iter().map(|e| &e.row).collect();
        if let Ok(written) = store::insert_payments(&db, &rows).await {
            return written.into_iter().map(Ok).collect();
        }
        // Nothing of the batch was written: each alone, below.
    }
    let mut results = Vec::with_capacity(batch.len());
    for entry in batch {
        results.push(store::insert_payment(&db, &entry.row).await.map_err(|e| e.to_string()));
    }
    results
}
