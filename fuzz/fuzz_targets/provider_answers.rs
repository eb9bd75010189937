//! Every provider answer: each connector's `map_*` function (NET CASH,
//! prepaid, CyberSource, au, NP) over an arbitrary `util::HttpOutcome`.
//! Input: two bytes of HTTP status (big-endian; 0 = no answer, the rest is
//! then the transport error) and the body. Beyond "no panic": an answer
//! that did not come, or came as a 5xx, is never read as "nothing happened"
//! (every `Outcome` is then `Unclear`, ARCHITECTURE's journal invariant 4).
#![no_main]
use edge::connectors::{au, cybersource, netcash, np, prepaid, Outcome};
use edge::util::HttpOutcome;
use libfuzzer_sys::fuzz_target;

const BASE: &str = "http://127.0.0.1:8787/sandbox/au";

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let status = u16::from_be_bytes([data[0], data[1]]);
    let text = String::from_utf8_lossy(&data[2..]).into_owned();
    let out = if status == 0 {
        HttpOutcome { status: None, body: String::new(), latency_ms: 15_000, error: Some(text) }
    } else {
        HttpOutcome { status: Some(status), body: text, latency_ms: 1, error: None }
    };
    let unclear_expected = out.status.is_none_or(|s| s >= 500);
    let check = |what: &str, o: Outcome| {
        if unclear_expected {
            assert!(matches!(o, Outcome::Unclear { .. }), "{what}: {o:?} for {out:?}");
        }
    };

    // NET CASH
    let d = netcash::map_answer(&out);
    assert!(!unclear_expected || matches!(d, netcash::DebitOutcome::Unknown(_)), "netcash::map_answer: {d:?} for {out:?}");
    check("netcash::debit_outcome_of", netcash::debit_outcome_of(d));
    check("netcash::map_refund", netcash::map_refund(&out));
    // prepaid
    check("prepaid::outcome_of", prepaid::outcome_of(prepaid::map_answer(&out)));
    check("prepaid::map_status", prepaid::map_status(&out));
    // CyberSource
    let a = cybersource::map_payment(&out);
    assert!(!unclear_expected || matches!(a, cybersource::AuthOutcome::Unknown(_)), "cybersource::map_payment: {a:?} for {out:?}");
    for done in [&["PENDING", "TRANSMITTED"][..], &["VOIDED", "CANCELLED"][..], &["PENDING"][..], &["REVERSED"][..]] {
        check("cybersource::op_outcome", cybersource::op_outcome(cybersource::map_follow_on(&out, done)));
    }
    check("cybersource::map_undo", cybersource::map_undo(&out, "REVERSED"));
    check("cybersource::map_undo", cybersource::map_undo(&out, "VOIDED"));
    check("cybersource::map_transaction", cybersource::map_transaction(&out));
    check("cybersource::map_search", cybersource::map_search(&out));
    // au
    let st = au::map_start(&out, BASE);
    assert!(!unclear_expected || matches!(st, au::StartOutcome::Unknown(_)), "au::map_start: {st:?} for {out:?}");
    let s = au::map_status(&out, BASE);
    assert!(!unclear_expected || matches!(s, au::Status::Unknown(_)), "au::map_status: {s:?} for {out:?}");
    check("au::op_outcome", au::op_outcome(au::map_op(&out)));
    check("au::map_operation_status", au::map_operation_status(&out));
    // au recurring charges: an absent or 5xx answer is never "declined".
    let c = au::map_charge(&out);
    assert!(!unclear_expected || matches!(c, au::ChargeOutcome::Unclear(_)), "au::map_charge: {c:?} for {out:?}");
    // NP
    let sc = np::map_screening(&out);
    assert!(!unclear_expected || matches!(sc, np::Screening::Unknown(_)), "np::map_screening: {sc:?} for {out:?}");
    let t = np::map_status(&out);
    assert!(!unclear_expected || matches!(t, np::TransactionStatus::Unknown(_)), "np::map_status: {t:?} for {out:?}");
    check("np::operation_outcome", np::operation_outcome(np::map_operation(&out)));
    check("np::map_operation_status", np::map_operation_status(&out));
    check("np::map_transaction_outcome", np::map_transaction_outcome(&out));
});
