"""ib_async against the Binder simulator over the text protocol (server version 178).

Run by scripts/test through pytest (conftest.py starts `binder sim`); by hand:
`python test_ib_async.py PORT` against a running simulator.
"""

import asyncio
import logging
import sys

from ib_async import IB, LimitOrder, MarketOrder, Order, Stock, StopOrder


async def wait_for(predicate, what, seconds=10.0):
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_ib_async_connects_trades_and_reads_the_account(sim_port, caplog):
    """Connect, qualify, trade (market, limit + cancel, stop + modify, trail), read
    positions, account values, portfolio, summary, executions, bars, ticks and PnL."""
    caplog.set_level(logging.WARNING)
    asyncio.run(main(sim_port))
    # ib_async logs, and then skips, every message it cannot decode.
    undecodable = [r.getMessage() for r in caplog.records if r.name == "ib_async.Decoder"]
    assert not undecodable, undecodable


async def main(port: int) -> None:
    ib = IB()
    await ib.connectAsync("127.0.0.1", port, clientId=7, timeout=15)
    try:
        assert ib.client.serverVersion() == 178, ib.client.serverVersion()
        assert ib.managedAccounts() == ["DU1234567"], ib.managedAccounts()

        server_time = await ib.reqCurrentTimeAsync()
        assert server_time.year >= 2024, server_time

        contract = Stock("AAPL", "SMART", "USD")
        qualified = await ib.qualifyContractsAsync(contract)
        assert qualified and qualified[0].conId == 265598, qualified

        trade = ib.placeOrder(contract, MarketOrder("BUY", 100, orderRef="py-1"))
        await wait_for(trade.isDone, "the market order to finish")
        assert trade.orderStatus.status == "Filled", trade.log
        assert sum(f.execution.shares for f in trade.fills) == 100, trade.fills
        assert trade.fills[0].execution.orderRef == "py-1"
        await wait_for(lambda: trade.fills[0].commissionReport.commission > 0, "the commission report")

        await wait_for(
            lambda: any(p.contract.symbol == "AAPL" and p.position == 100 for p in ib.positions()),
            "the AAPL position",
        )
        position = next(p for p in ib.positions() if p.contract.symbol == "AAPL")
        assert position.avgCost > 0, position

        values = {v.tag: v.value for v in ib.accountValues() if v.currency == "USD"}
        for tag in ("NetLiquidation", "TotalCashValue", "BuyingPower"):
            assert tag in values, (tag, sorted(values))
        portfolio = [item for item in ib.portfolio() if item.contract.symbol == "AAPL"]
        assert portfolio and portfolio[0].position == 100, ib.portfolio()

        summary = {v.tag: v.value for v in await ib.accountSummaryAsync()}
        assert float(summary["NetLiquidation"]) > 0, summary

        executions = await ib.reqExecutionsAsync()
        assert any(f.execution.side == "BOT" for f in executions), executions

        bars = await ib.reqHistoricalDataAsync(
            contract, endDateTime="", durationStr="1 D", barSizeSetting="1 hour",
            whatToShow="TRADES", useRTH=False, formatDate=2,
        )
        assert len(bars) == 24, len(bars)

        [ticker] = await ib.reqTickersAsync(contract)
        assert ticker.bid > 0 and ticker.ask > ticker.bid, ticker

        # A resting limit order, then its cancel.
        resting = ib.placeOrder(contract, LimitOrder("BUY", 10, round(ticker.bid * 0.5, 2)))
        await wait_for(lambda: resting.orderStatus.status == "Submitted", "the limit order to rest")
        ib.cancelOrder(resting.order)
        await wait_for(lambda: resting.orderStatus.status == "Cancelled", "the cancel")

        # A stop far below the market rests; modifying it above the bid triggers it.
        stop = ib.placeOrder(contract, StopOrder("SELL", 10, round(ticker.bid * 0.5, 2)))
        await wait_for(lambda: stop.orderStatus.status == "Submitted", "the stop to rest")
        stop.order.auxPrice = round(ticker.bid * 2, 2)
        ib.placeOrder(contract, stop.order)
        await wait_for(stop.isDone, "the modified stop to fill")
        assert stop.orderStatus.status == "Filled", stop.log

        # The trailing percent survives the positional text layout.
        trail = ib.placeOrder(
            contract, Order(action="SELL", totalQuantity=5, orderType="TRAIL", trailingPercent=1.0)
        )
        await wait_for(lambda: trail.orderStatus.status == "Submitted", "the trailing stop to rest")
        open_trail = next(t for t in ib.openTrades() if t.order.orderId == trail.order.orderId)
        assert open_trail.order.trailingPercent == 1.0, open_trail.order

        pnl = ib.reqPnL("DU1234567")
        await wait_for(lambda: pnl.unrealizedPnL == pnl.unrealizedPnL and pnl.dailyPnL == pnl.dailyPnL, "PnL")
        ib.cancelPnL("DU1234567")
    finally:
        ib.disconnect()


if __name__ == "__main__":
    # Warnings and decoder errors go to stderr.
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(int(sys.argv[1])))
