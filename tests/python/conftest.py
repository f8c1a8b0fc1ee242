"""Starts `binder sim` on a free loopback port for the protocol tests.

BINDER_BIN names the binary (scripts/test builds it); without it, target/debug/binder.
"""

import os
import pathlib
import socket
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sim_port():
    binary = os.environ.get("BINDER_BIN", str(ROOT / "target" / "debug" / "binder"))
    assert os.path.exists(binary), f"{binary} is missing: run `cargo build --bin binder` first"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIM_")}
    process = subprocess.Popen(
        [binary, "sim", "--port", str(port), "--tick-ms", "100"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stderr.read().decode()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "binder sim did not listen within 30 s"
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
