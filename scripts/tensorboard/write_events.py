#!/usr/bin/env python3
"""Writes TensorBoard event files with tensorboardX, for RLWatchTensorBoard's tests.

    write_events.py simple  LOGDIR SPEC.json   scalars as `simple_value` (SummaryWriter.add_scalar)
    write_events.py tensors LOGDIR SPEC.json   scalars as scalar tensors, as TF2 / torch new_style write them
    write_events.py grow    LOGDIR             one line per command on stdin, see below

SPEC.json is a list of [step, tag, value] (value may be "nan", "inf", "-inf"), written in order. For
`tensors`, an entry may have a fourth element naming how the tensor holds the value: "float_val"
(the default, what torch and TF write), "double", "content_float", "content_double", "half",
"int64", "no_metadata" (a DT_FLOAT tensor without SummaryMetadata), "vector" (a 3-element tensor:
not a scalar), "text" (a string tensor of the text plugin: not a scalar). SPEC may instead be an
object {"scalars": [...], "extras": true}: "extras" adds a text summary and a histogram first.

`grow` reads commands from stdin, one per line, and answers each with "ok" on stdout once the events
are flushed to disk:  `scalar STEP TAG VALUE`  adds a scalar;  `flush`  flushes;  `close`  closes.

Prints the event file's path on stdout (for `grow`, first, before any command).
Exit status 3 when tensorboardX is not installed.
"""
import json
import math
import os
import sys

try:
    import numpy as np
    from tensorboardX import SummaryWriter
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboardX.proto.tensor_pb2 import TensorProto
    from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto
except ImportError as error:  # pragma: no cover - reported to the Swift test
    print(f"tensorboardX is not installed ({error}): pip install tensorboardX", file=sys.stderr)
    sys.exit(3)

DT_FLOAT, DT_DOUBLE, DT_STRING, DT_INT64, DT_HALF = 1, 2, 7, 9, 19


def number(value):
    if isinstance(value, str):
        return float(value)  # "nan", "inf", "-inf"
    return value


def scalar_metadata():
    return SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))


def tensor_value(tag, value, style):
    """A Summary.Value holding `value` as a tensor, in the given style."""
    value = number(value)
    scalar_shape = TensorShapeProto()
    metadata = scalar_metadata()
    if style == "float_val":
        tensor = TensorProto(dtype=DT_FLOAT, float_val=[value], tensor_shape=scalar_shape)
    elif style == "double":
        tensor = TensorProto(dtype=DT_DOUBLE, double_val=[value], tensor_shape=scalar_shape)
    elif style == "content_float":
        tensor = TensorProto(dtype=DT_FLOAT, tensor_content=np.array(value, "<f4").tobytes(), tensor_shape=scalar_shape)
    elif style == "content_double":
        tensor = TensorProto(dtype=DT_DOUBLE, tensor_content=np.array(value, "<f8").tobytes(), tensor_shape=scalar_shape)
    elif style == "half":
        bits = int(np.array(value, np.float16).view(np.uint16))
        tensor = TensorProto(dtype=DT_HALF, half_val=[bits], tensor_shape=scalar_shape)
    elif style == "int64":
        tensor = TensorProto(dtype=DT_INT64, int64_val=[int(value)], tensor_shape=scalar_shape)
    elif style == "no_metadata":
        tensor = TensorProto(dtype=DT_FLOAT, float_val=[value], tensor_shape=scalar_shape)
        return Summary.Value(tag=tag, tensor=tensor)
    elif style == "vector":
        shape = TensorShapeProto(dim=[TensorShapeProto.Dim(size=3)])
        tensor = TensorProto(dtype=DT_FLOAT, float_val=[value, value, value], tensor_shape=shape)
    elif style == "text":
        tensor = TensorProto(dtype=DT_STRING, string_val=[str(value).encode()], tensor_shape=scalar_shape)
        metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="text"))
    else:
        raise SystemExit(f"unknown tensor style {style!r}")
    return Summary.Value(tag=tag, tensor=tensor, metadata=metadata)


def write(mode, logdir, spec):
    writer = SummaryWriter(logdir=logdir, flush_secs=3600)
    if spec.get("extras"):
        # Events that are not scalars: a text summary, a histogram, a graph-less session start.
        writer.add_text("notes", "a run", 0)
        writer.add_histogram("weights", np.arange(10, dtype=np.float32), 0)
    for entry in spec["scalars"]:
        step, tag, value = entry[0], entry[1], entry[2]
        if mode == "simple":
            writer.add_scalar(tag, number(value), step, walltime=1_700_000_000.0 + step)
        else:
            style = entry[3] if len(entry) > 3 else "float_val"
            summary = Summary(value=[tensor_value(tag, value, style)])
            writer._get_file_writer().add_summary(summary, step, walltime=1_700_000_000.0 + step)
    writer.flush()
    path = writer._get_file_writer().get_logdir()
    writer.close()
    return path


def event_file(logdir):
    names = sorted(name for name in os.listdir(logdir) if name.startswith("events.out.tfevents."))
    return os.path.join(logdir, names[-1])


def grow(logdir):
    # SummaryWriter queues events for a background thread, and its flush() does not wait for that
    # queue: tensorboardX's synchronous EventsWriter (the record writer under it) is used instead, so
    # that "ok" means the events are in the file. The summaries are made by tensorboardX's own
    # summary.scalar, as add_scalar makes them.
    from tensorboardX.event_file_writer import EventsWriter
    from tensorboardX.proto.event_pb2 import Event
    from tensorboardX.summary import scalar

    os.makedirs(logdir, exist_ok=True)
    writer = EventsWriter(os.path.join(logdir, "events"))
    writer.flush()
    print(event_file(logdir), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "scalar":
            step, tag, value = int(words[1]), words[2], float(words[3])
            event = Event(summary=scalar(tag, value), step=step, wall_time=1_700_000_000.0 + step)
            writer.write_event(event)
        elif words[0] == "flush":
            writer.flush()
        elif words[0] == "close":
            writer.close()
            print("ok", flush=True)
            return
        else:
            raise SystemExit(f"unknown command {line!r}")
        print("ok", flush=True)


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    mode, logdir = sys.argv[1], sys.argv[2]
    if mode == "grow":
        grow(logdir)
        return
    with open(sys.argv[3]) as handle:
        spec = json.load(handle)
    if isinstance(spec, list):
        spec = {"scalars": spec}
    write(mode, logdir, spec)
    print(event_file(logdir))


if __name__ == "__main__":
    main()
