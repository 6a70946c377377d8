"""The pure-Python reader on hand-made files: framing, CRCs, truncated
tails retried, corruption, TensorFlow's tensor encodings and the legacy
fields other writers use."""


import struct
import warnings

import pytest

import tfevents
from tfevents.reader import crc32c, masked_crc


def test_crc32c_known_value():
    assert crc32c(b"123456789") == 0xE3069283


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(f, wire, data):
    k = varint(f << 3 | wire)
    if wire == 2:
        return k + varint(len(data)) + data
    return k + data


def record(payload):
    head = struct.pack("<Q", len(payload))
    return (head + struct.pack("<I", masked_crc(head)) + payload
            + struct.pack("<I", masked_crc(payload)))


def event(step, summary_values=b"", wall=1.5, version=None):
    e = field(1, 1, struct.pack("<d", wall)) + field(2, 0, varint(step))
    if version:
        return e + field(3, 2, version.encode())
    return e + field(5, 2, summary_values)


def value(tag, *parts):
    return field(1, 2, field(1, 2, tag.encode()) + b"".join(parts))


def metadata(plugin):
    return field(9, 2, field(1, 2, field(1, 2, plugin.encode())))


def tensor(dtype, shape, *parts):
    dims = b"".join(field(2, 2, field(1, 0, varint(d))) for d in shape)
    return field(8, 2, field(1, 0, varint(dtype)) + field(2, 2, dims) + b"".join(parts))


def write(path, *records):
    with open(path, "ab") as f:
        for r in records:
            f.write(r)


def test_legacy_and_tensor_encodings(tmp_path):
    p = str(tmp_path / "events.out.tfevents.1.host")
    write(p, record(event(0, version="brain.Event:2")),
          # legacy simple_value (TensorFlow 1, tensorboardX)
          record(event(1, value("a", field(2, 5, struct.pack("<f", 0.5))))),
          # a scalar as a rank-0 DT_DOUBLE in tensor_content
          record(event(2, value("b", metadata("scalars"),
                                tensor(2, [], field(4, 2, struct.pack("<d", 2.25)))))),
          # a histogram [2, 3] of float_val (packed)
          record(event(3, value("h", metadata("histograms"),
                                tensor(1, [2, 3], field(5, 2, struct.pack("<6f", 0, 1, 2, 1,
                                                                          2, 3)))))),
          # text as string_val, then the same tag again without metadata
          record(event(4, value("t", metadata("text"), tensor(7, [], field(8, 2, b"hi"))))),
          record(event(5, value("t", tensor(7, [2], field(8, 2, b"x"), field(8, 2, b"y"))))),
          # legacy histo
          record(event(6, value("lh", field(5, 2, field(1, 1, struct.pack("<d", 0.0))
                                            + field(6, 2, struct.pack("<2d", 1, 2))
                                            + field(7, 2, struct.pack("<2d", 4, 5)))))))
    rows = tfevents.collect_events(p, type="summary", as_frame=False)
    got = {r["tag"] + str(r["step"]): (r["plugin"], r["value"]) for r in rows}
    assert got["a1"] == ("scalars", 0.5)
    assert got["b2"] == ("scalars", 2.25)
    assert got["h3"] == ("histograms", [(0, 1, 2), (1, 2, 3)])
    assert got["t4"] == ("text", "hi") and got["t5"] == ("text", ["x", "y"])
    assert got["lh6"] == ("histograms", [(0, 1, 4), (1, 2, 5)])
    sc = tfevents.collect_events(p, type="scalar", as_frame=False)
    assert [(r["tag"], r["value"]) for r in sc] == [("a", 0.5), ("b", 2.25)]


def test_truncated_tail_is_retried_and_corruption_ends_file(tmp_path):
    run = tmp_path / "run1"
    run.mkdir()
    p = str(run / "events.out.tfevents.1.host")
    r1 = record(event(0, version="brain.Event:2"))
    r2 = record(event(1, value("a", field(2, 5, struct.pack("<f", 1.0)))))
    write(p, r1, r2[:7])
    reader = tfevents.events_logdir(str(tmp_path))
    assert [e["what"] for e in reader.read()] == ["file_version"]
    assert reader.read() == []
    write(p, r2[7:])
    got = reader.read()
    assert [(e["run"], e["step"]) for e in got] == [("run1", 1)]
    bad = bytearray(record(event(2, value("a", field(2, 5, struct.pack("<f", 2.0))))))
    bad[-6] ^= 1
    write(p, bytes(bad), record(event(3, value("a", field(2, 5, struct.pack("<f", 3.0))))))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert reader.read() == []
    assert any("data CRC" in str(x.message) for x in w)
    # A new file of the run is read.
    write(str(run / "events.out.tfevents.2.host"), r1)
    assert [e["what"] for e in reader.read()] == ["file_version"]


def test_missing_logdir(tmp_path):
    with pytest.raises(FileNotFoundError):
        tfevents.collect_events(str(tmp_path / "nope"))


def test_data_frame_when_pandas(tmp_path):
    pd = pytest.importorskip("pandas")
    p = str(tmp_path / "events.out.tfevents.1.host")
    write(p, record(event(1, value("a", field(2, 5, struct.pack("<f", 1.0))))))
    df = tfevents.collect_events(p, type="scalar")
    assert isinstance(df, pd.DataFrame) and list(df["value"]) == [1.0]
