"""export_all streams: the memory it needs does not grow with the program's size."""

from __future__ import annotations

import json
import threading
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promo_app.api.envelope import to_xml, xml_item
from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.models import LoyaltyProgram
from promo_app.tokens import create_token
from tests.helpers import call


def make_program(session, name: str, size: int) -> int:
    program = LoyaltyProgram(name=name)
    session.add(program)
    session.flush()
    lines = (ImportLine(n, f"{name}-{n:07d}") for n in range(size))
    import_codes(session, program, lines, batch_size=10_000)
    session.commit()
    return program.id


def export_peak(client, token: str, loyalty_id: int, fmt: str) -> tuple[int, int, bytes]:
    """Export a program reading the answer chunk by chunk, as a client on a socket would;
    return the peak of Python memory during it, the bytes received and the last chunks."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        response = client.post(
            "/api/v1.1/promocodes/export_all",
            json={"token": token, "loyalty_id": loyalty_id, "format": fmt},
            buffered=False,
        )
        received = 0
        tail = b""
        for chunk in response.response:
            chunk = chunk if isinstance(chunk, bytes) else chunk.encode()
            received += len(chunk)
            tail = (tail + chunk)[-200:]
        response.close()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert response.status_code == 200
    return peak, received, tail


def test_export_all_memory_stays_flat_as_the_program_grows(app, client, session):
    small = make_program(session, "S", 5_000)
    large = make_program(session, "L", 100_000)
    token = create_token(session, "export")
    session.commit()
    for fmt in ("json", "xml"):
        small_peak, small_bytes, _ = export_peak(client, token, small, fmt)
        large_peak, large_bytes, tail = export_peak(client, token, large, fmt)
        print(
            f"\nexport_all {fmt}: 5k codes {small_bytes} B, peak {small_peak / 1e6:.2f} MB; "
            f"100k codes {large_bytes} B, peak {large_peak / 1e6:.2f} MB; "
            f"size x{large_bytes / small_bytes:.1f}, peak x{large_peak / small_peak:.2f}"
        )
        # 20 times the codes, 20 times the bytes, and not more than twice the memory.
        assert large_bytes > 19 * small_bytes
        assert large_peak < 2 * small_peak
        assert large_peak < large_bytes / 2  # the answer was never held whole
        expected_end = (
            b'"L-0099999","attached":false,"activated":false}],"error":0,'
            b'"error_text":"Successful operation"}'
            if fmt == "json"
            else b"<code>L-0099999</code><attached>false</attached><activated>false</activated>"
            b"</item></data><error>0</error><error_text>Successful operation</error_text></xml>"
        )
        assert tail.endswith(expected_end)


def test_export_all_of_a_large_program_is_complete_and_in_order(app, client, session):
    loyalty_id = make_program(session, "M", 4_500)  # three batches, the last one short
    token = create_token(session, "export")
    session.commit()
    response = client.post(
        "/api/v1.1/promocodes/export_all", json={"token": token, "loyalty_id": loyalty_id}
    )
    codes = [item["code"] for item in json.loads(response.data)["data"]]
    assert codes == [f"M-{n:07d}" for n in range(4_500)]


@pytest.mark.parametrize("app_config", [{"PROMO_SQLITE_BUSY_TIMEOUT_MS": 500}])
def test_export_all_is_one_snapshot_that_blocks_no_writer(app, client, shop, session):
    loyalty_id = make_program(session, "W", 5_000)  # three batches
    export = client.post(
        "/api/v1.1/promocodes/export_all",
        json={"token": shop.token, "loyalty_id": loyalty_id},
        buffered=False,
    )
    chunks = iter(export.response)
    received = [next(chunks), next(chunks)]  # the stream has started: first batch read
    # Meanwhile a customer gets the last code of the program: the write does not wait.
    params = {
        "token": shop.token,
        "db_id": shop.db_id,
        "loyalty_id": loyalty_id,
        "email": "bob@example.com",
        "code": "W-0004999",
    }
    answers = []
    # Its own thread, as a server would serve it: its own app context, session, connection.
    writer = threading.Thread(
        target=lambda: answers.append(call(app.test_client(), "attach", params))
    )
    writer.start()
    writer.join()
    # Had the export held SQLite's write lock, the attach would fail after the 500 ms busy timeout.
    status, body = answers[0]
    assert (status, body["error"]) == (200, 0)
    received.extend(chunks)
    export.close()
    data = json.loads(b"".join(c if isinstance(c, bytes) else c.encode() for c in received))
    # The export is the program as it was when it began, all of it.
    assert len(data["data"]) == 5_000
    assert data["data"][-1] == {"code": "W-0004999", "attached": False, "activated": False}
    status, body = call(client, "export_all", {"token": shop.token, "loyalty_id": loyalty_id})
    assert body["data"][-1]["attached"] is True


@pytest.mark.db_independent  # no database
@given(
    st.dictionaries(
        st.sampled_from(["code", "attached", "activated", "x"]),
        st.one_of(st.text(), st.booleans(), st.integers(), st.none()),
    )
)
@settings(max_examples=300, derandomize=True, database=None, deadline=None)
def test_a_streamed_xml_item_is_written_as_xmltodict_writes_it(item):
    envelope = to_xml({"data": [item, item], "error": 0, "error_text": "x"})
    assert envelope.count(xml_item(item)) == 2
