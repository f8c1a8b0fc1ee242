//! IB's error and notice codes, translated: a stable Binder code, whether retrying can help,
//! and one line a trader understands. Used in API errors and in logs.

/// What Binder knows about one IB code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IbCode {
    /// IB's numeric code.
    pub ib: i32,
    /// Binder's stable code (SCREAMING_SNAKE).
    pub binder: &'static str,
    /// Whether the same request may succeed if retried later.
    pub retryable: bool,
    /// One line for a person.
    pub explanation: &'static str,
}

const fn code(ib: i32, binder: &'static str, retryable: bool, explanation: &'static str) -> IbCode {
    IbCode {
        ib,
        binder,
        retryable,
        explanation,
    }
}

/// The table, sorted by IB code.
pub const TABLE: &[IbCode] = &[
    code(
        100,
        "IB_PACING_VIOLATION",
        true,
        "Too many messages were sent to the gateway in one second; requests are being slowed down.",
    ),
    code(
        101,
        "IB_MARKET_DATA_LINE_LIMIT",
        true,
        "The account's market data line limit is reached; cancel a subscription first.",
    ),
    code(
        103,
        "IB_DUPLICATE_ORDER_ID",
        false,
        "The gateway has already seen this order id; the order was not placed.",
    ),
    code(
        104,
        "IB_CANNOT_MODIFY_FILLED_ORDER",
        false,
        "The order has already filled and can no longer be modified.",
    ),
    code(
        110,
        "IB_PRICE_OFF_TICK",
        false,
        "The price does not match the contract's minimum price increment.",
    ),
    code(
        135,
        "IB_ORDER_NOT_FOUND",
        false,
        "The gateway does not know an order with this id (it may have been placed by another client).",
    ),
    code(
        161,
        "IB_CANCEL_NOT_ALLOWED",
        false,
        "The order is in a state in which it cannot be canceled.",
    ),
    code(
        162,
        "IB_HISTORICAL_PACING",
        true,
        "Historical data requests are coming too fast for IB; wait and retry.",
    ),
    code(
        165,
        "IB_HISTORICAL_INFO",
        false,
        "Information about a historical data request (not an error).",
    ),
    code(
        200,
        "IB_NO_SUCH_CONTRACT",
        false,
        "IB found no security matching this request.",
    ),
    code(
        201,
        "IB_ORDER_REJECTED",
        false,
        "IB rejected the order; the reason follows.",
    ),
    code(202, "IB_ORDER_CANCELED", false, "The order was canceled."),
    code(
        300,
        "IB_UNKNOWN_TICKER_ID",
        false,
        "A market data subscription id was not recognised.",
    ),
    code(
        321,
        "IB_INVALID_REQUEST",
        false,
        "The gateway could not validate the request.",
    ),
    code(
        322,
        "IB_REQUEST_PROCESSING_ERROR",
        true,
        "The gateway failed while processing the request.",
    ),
    code(
        326,
        "IB_CLIENT_ID_IN_USE",
        true,
        "Another program is connected with the same client id; change IB_CLIENT_ID or close it.",
    ),
    code(
        354,
        "IB_MARKET_DATA_NOT_SUBSCRIBED",
        false,
        "The account has no market data subscription for this contract.",
    ),
    code(
        399,
        "IB_ORDER_WARNING",
        false,
        "IB accepted the order with a warning (for example, it will wait for the market to open).",
    ),
    code(
        502,
        "IB_CANNOT_CONNECT",
        true,
        "Cannot connect to TWS or IB Gateway; check that it runs and accepts API connections on this port.",
    ),
    code(
        504,
        "IB_NOT_CONNECTED",
        true,
        "Not connected to TWS or IB Gateway.",
    ),
    code(
        1100,
        "IB_CONNECTIVITY_LOST",
        true,
        "The gateway lost its connection to IB's servers.",
    ),
    code(
        1101,
        "IB_CONNECTIVITY_RESTORED_DATA_LOST",
        true,
        "The gateway is back in touch with IB, but market data subscriptions were lost and are being renewed.",
    ),
    code(
        1102,
        "IB_CONNECTIVITY_RESTORED",
        false,
        "The gateway is back in touch with IB; subscriptions were kept.",
    ),
    code(
        2103,
        "IB_MARKET_DATA_FARM_BROKEN",
        true,
        "A market data farm connection is broken; quotes may be stale.",
    ),
    code(
        2104,
        "IB_MARKET_DATA_FARM_OK",
        false,
        "A market data farm connection is OK.",
    ),
    code(
        2105,
        "IB_HISTORICAL_FARM_BROKEN",
        true,
        "A historical data farm connection is broken.",
    ),
    code(
        2106,
        "IB_HISTORICAL_FARM_OK",
        false,
        "A historical data farm connection is OK.",
    ),
    code(
        2107,
        "IB_HISTORICAL_FARM_INACTIVE",
        false,
        "A historical data farm connection is inactive but available on demand.",
    ),
    code(
        2108,
        "IB_MARKET_DATA_FARM_INACTIVE",
        false,
        "A market data farm connection is inactive but available on demand.",
    ),
    code(
        2157,
        "IB_SECDEF_FARM_BROKEN",
        true,
        "The security definition farm connection is broken; contract lookups may fail.",
    ),
    code(
        2158,
        "IB_SECDEF_FARM_OK",
        false,
        "The security definition farm connection is OK.",
    ),
    code(
        10089,
        "IB_MARKET_DATA_REQUIRES_SUBSCRIPTION",
        false,
        "This market data needs an additional subscription; delayed data may be available.",
    ),
    code(
        10147,
        "IB_ORDER_TO_CANCEL_NOT_FOUND",
        false,
        "The order to cancel was not found (it may have filled or been canceled already).",
    ),
    code(
        10148,
        "IB_ORDER_CANNOT_BE_CANCELED",
        false,
        "The order cannot be canceled in its current state.",
    ),
    code(
        10167,
        "IB_DELAYED_MARKET_DATA",
        false,
        "Real-time data is not subscribed; delayed market data is shown.",
    ),
    code(
        10168,
        "IB_DELAYED_DATA_NOT_ENABLED",
        false,
        "Market data is not subscribed and delayed data is not enabled.",
    ),
    code(
        10197,
        "IB_COMPETING_SESSION",
        true,
        "Another session (for example TWS on another machine) is using the market data; none is sent here.",
    ),
];

/// What Binder knows about `ib`, if anything.
pub fn lookup(ib: i32) -> Option<&'static IbCode> {
    TABLE
        .binary_search_by_key(&ib, |c| c.ib)
        .ok()
        .map(|i| &TABLE[i])
}

/// The Binder code for `ib`, with a generic one for codes not in the table.
pub fn binder_code(ib: i32) -> &'static str {
    lookup(ib).map_or("IB_ERROR", |c| c.binder)
}

/// Notices that are informational (farm status, warnings), not failures of a request.
pub fn is_informational(ib: i32) -> bool {
    let farm_ok = (2100..2200).contains(&ib) && !matches!(ib, 2103 | 2105 | 2157);
    farm_ok || matches!(ib, 165 | 202 | 399 | 1102 | 10167)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_unique_and_complete() {
        assert!(
            TABLE.windows(2).all(|w| w[0].ib < w[1].ib),
            "sorted and unique"
        );
        let required = [
            100, 101, 103, 104, 110, 135, 161, 162, 165, 200, 201, 202, 300, 321, 322, 326, 354,
            399, 502, 504, 1100, 1101, 1102, 2103, 2104, 2105, 2106, 2107, 2108, 10089, 10147,
            10148, 10167, 10168, 10197,
        ];
        for ib in required {
            let entry = lookup(ib).unwrap_or_else(|| panic!("{ib} missing"));
            assert!(
                entry.binder.starts_with("IB_")
                    && entry
                        .binder
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c == '_')
            );
            assert!(entry.explanation.ends_with('.'));
        }
        let mut codes: Vec<_> = TABLE.iter().map(|c| c.binder).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), TABLE.len(), "binder codes are unique");
    }

    #[test]
    fn unknown_codes_get_a_generic_code() {
        assert_eq!(binder_code(4242), "IB_ERROR");
        assert!(lookup(4242).is_none());
        assert!(is_informational(2104));
        assert!(!is_informational(2103));
        assert!(!is_informational(201));
    }
}
