//! Streamed CSV answers (the payments and audit exports): the header line,
//! then one page of rows read from D1 at a time while the answer is being
//! sent (a `ReadableStream`), so an export of any size is never one page
//! in memory, nor one long D1 read.

use std::future::Future;
use std::rc::Rc;

use futures_util::{stream, StreamExt};
use worker::{D1Database, Env, Response};

use super::csv::{self, Cell, Encoding};
use crate::util::json;

/// The encoding a request asks for (`?encoding=`), or the 400 to answer.
pub fn encoding(url: &worker::Url) -> Result<Encoding, worker::Result<Response>> {
    let asked = url.query_pairs().find(|(k, _)| k == "encoding").map(|(_, v)| v.to_string());
    Encoding::from_query(asked.as_deref()).ok_or_else(|| {
        json(400, &serde_json::json!({"error": {"code": "invalid_query", "message": "encoding is utf-8 (default) or shift_jis", "field": "encoding"}}))
    })
}

/// A CSV file named `filename` with `columns`, its rows from `next_page`:
/// given the database and the cursor after the last page (`None` first),
/// it answers the next page's CSV lines and the cursor after them (`None`
/// after the last page).
pub fn streamed<C, F, Fut>(env: &Env, enc: Encoding, columns: &[&str], filename: &str, next_page: F) -> worker::Result<Response>
where
    C: 'static,
    F: Fn(D1Database, Option<C>) -> Fut + 'static,
    Fut: Future<Output = worker::Result<(String, Option<C>)>> + 'static,
{
    let header = [enc.preamble().to_vec(), enc.encode(&csv::row(&columns.iter().map(|c| Cell::Text(c)).collect::<Vec<_>>()))].concat();
    let first = stream::once(async move { Ok::<Vec<u8>, worker::Error>(header) });
    let (env, next_page, name) = (env.clone(), Rc::new(next_page), filename.to_string());
    // The state: `None` when done; `Some(cursor)` before the next page.
    let rest = stream::unfold(Some(None::<C>), move |state| {
        let (env, next_page, name) = (env.clone(), next_page.clone(), name.clone());
        async move {
            let cursor = state?;
            let page = match env.d1("DB") {
                Ok(db) => next_page(db, cursor).await,
                Err(e) => Err(e),
            };
            Some(match page {
                Ok((text, next)) => (Ok(enc.encode(&text)), next.map(Some)),
                Err(e) => {
                    // The answer breaks off: the client sees an incomplete file.
                    worker::console_error!("{name} export: {e}");
                    (Err(e), None)
                }
            })
        }
    });
    let mut r = Response::from_stream(first.chain(rest))?;
    r.headers_mut().set("content-type", &format!("text/csv; charset={}", enc.charset()))?;
    r.headers_mut().set("content-disposition", &format!("attachment; filename=\"{filename}\""))?;
    r.headers_mut().set("cache-control", "no-store")?;
    Ok(r)
}
