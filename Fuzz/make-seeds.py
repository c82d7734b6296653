"""Writes the committed seed corpus of every fuzz target into Fuzz/Corpus/<target>/.

Seeds are small valid inputs taken from the labelled real runs (Tests/Fixtures/RealRuns/logs), real writers'
output (tensorboardX) and the inputs of the hardening issue's attacks (overflowing steps, huge windows, a YAML
alias bomb, secrets in templates). libFuzzer mutates from them; the test suite replays every one of them.
Run from the repository root with the test venv: `.venv/bin/python3 Fuzz/make-seeds.py` (needs tensorboardX);
`Fuzz/make-seeds.py wandb` writes only the W&B seeds.
"""
import json
import os
import shutil
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOGS = os.path.join(ROOT, "Tests", "Fixtures", "RealRuns", "logs")
CORPUS = os.path.join(ROOT, "Fuzz", "Corpus")


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def head_lines(log, count):
    with open(os.path.join(LOGS, log), "rb") as f:
        return [f.readline() for _ in range(count)]


def main():
    shutil.rmtree(CORPUS, ignore_errors=True)
    jsonl_logs = [
        "verl-grpo-kl-explosion.file-logger.jsonl",
        "trl-hotpotqa-qwen25-3b-grpo-v3.console.jsonl",
        "03_rookworld-rlvr_mini_training_history.jsonl",
        "custom-tinker-qwen3-4b-rubric-rlvr.metrics.jsonl",
        "06_cs336_ShibukiZero_grpo_noclip_e2_tb256_metrics.jsonl",
    ]
    # metrics-line: one real line of each log, plus the edge cases the parser must reject or accept.
    for index, log in enumerate(jsonl_logs):
        write("metrics-line", f"real-{index}", head_lines(log, 3)[-1].rstrip(b"\n"))
    edge = {
        "overflow-step": '{"step": 9223372036854775807, "loss": 1.0}',
        "negative-step": '{"step": -9223372036854775808, "kl": 0.1}',
        "python-nan": '{"step": 3, "loss": NaN, "kl": Infinity, "entropy": -Infinity}',
        "string-numbers": '{"step": "4", "loss": "nan", "reward": "1e309"}',
        "nested": '{"step": 5, "metrics": {"actor/entropy": 0.5}, "extras": {"a": 1}, "rewards": [1, 0, 1]}',
        "deep": '{"step": 1, "x": ' + "[" * 200 + "]" * 200 + "}",
        "escapes": '{"step": 1, "k\\u00e9y\\ud83d\\ude00": 1.5e-320, "\\"q\\"": 0}',
        "bom": "\ufeff" + '{"step": 1, "loss": 2}',
    }
    for name, text in edge.items():
        write("metrics-line", name, text)
    # jsonl-file: the first lines of real logs, and a file ending mid-line.
    for index, log in enumerate(jsonl_logs):
        write("jsonl-file", f"real-{index}", b"".join(head_lines(log, 6)))
    write("jsonl-file", "partial-last-line", b"".join(head_lines(jsonl_logs[0], 3))[:-40])
    # step-batch: what the Python client and curl send.
    steps = [json.loads(line) for line in head_lines("verl-grpo-kl-explosion.file-logger.jsonl", 4)]
    write("step-batch", "array", json.dumps([{"step": i, "loss": 1.0 / i, "kl": 0.01 * i} for i in range(1, 5)]))
    write("step-batch", "ndjson", "\n".join(json.dumps({"step": i, "metrics": {"actor/entropy": 0.4}}) for i in range(3)))
    write("step-batch", "verl-lines", "\n".join(json.dumps(s) for s in steps))
    write("step-batch", "rewards", json.dumps([{"step": 1, "rewards": [0, 1, 1, 0.5], "reward_std": 0.4}]))
    write("step-batch", "overflow", json.dumps([{"step": 2**63 - 1, "loss": 1}, {"step": -(2**63), "loss": 1}]))
    # trainer-state: a real file's head made whole again, and a minimal one.
    with open(os.path.join(LOGS, "trl-gemma3-rl-finetuning-unsloth-gsm8k.trainer_state.json")) as f:
        state = json.load(f)
    state["log_history"] = state["log_history"][:4]
    write("trainer-state", "real-head", json.dumps(state, indent=2))
    write("trainer-state", "minimal", json.dumps({"global_step": 2, "max_steps": 10,
                                                  "log_history": [{"step": 1, "loss": 0.5, "reward": 0.1}]}))
    write("trainer-state", "nan-tokens", '{"global_step": 1, "log_history": [{"step": 1, "loss": NaN, "grad_norm": Infinity}]}')
    # selected-rows: CSV (as written by trainers and W&B's export) and JSONL.
    with open(os.path.join(LOGS, "15_rasbt_ch07_7_3_plus_tracking_metrics.csv"), "rb") as f:
        write("selected-rows", "real-csv", b"".join(f.readline() for _ in range(6)))
    write("selected-rows", "wandb-export", 'Step,"run - train/reward","run - train/kl"\n1,0.1,0.01\n2,,0.02\n3,0.3,NaN\n')
    write("selected-rows", "quoted", 'step,note,loss\n1,"a, ""quoted"" cell",0.5\n2,"multi\nline",0.4\n')
    write("selected-rows", "jsonl", b"".join(head_lines(jsonl_logs[1], 4)))
    # config-yaml: the documented keys, and the attacks of the hardening issue.
    write("config-yaml", "typical", """\
framework: trl
run_id: my-run
entropy_collapse: {threshold: 1.0, warmup_steps: 20}
kl_explosion:
  rolling_window: 50
  sigma_multiplier: 3.0
alerts:
  cooldown_steps: 50
  webhook: {url: "http://127.0.0.1:9/hook", template_json: '{"text": "$message"}'}
metrics:
  keys: {entropy: actor/entropy}
""")
    write("config-yaml", "huge-window", "kl_explosion: {rolling_window: 4000000000}\nreward_hacking: {baseline_window: 9e18}\n")
    write("config-yaml", "alias-bomb", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
          "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
          "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n")
    write("config-yaml", "wrong-types", "entropy_collapse: [1, 2]\nalerts: 5\nunknown_section: {a: 1}\n")
    # webhook-template: the default template, placeholders at the edges, and messages to escape.
    write("webhook-template", "default", '{"detector": "$detector", "step": $step, "message": "${message}"}\nKL rose 12x')
    write("webhook-template", "dollars", '{"a": "$$", "b": "${", "c": "$nope", "d": "${message"}\n"quoted" \\ back\u0001')
    write("webhook-template", "unicode", '{"m": "$message"}\n\ud7ff \u2028 emoji \U0001F600')
    # analyzer: byte strings decoded into steps (see FuzzTarget.analyzer).
    write("analyzer", "zeros", bytes(256))
    write("analyzer", "ramp", bytes((i * 37) % 256 for i in range(1024)))
    write("analyzer", "jumps", bytes([0x80] + [0xFF] * 8 + [0x7F, 3, 9, 0x81] + [0x00] * 7 + [0x80] + [1] * 64))
    # tensorboard: real tensorboardX output.
    from tensorboardX import SummaryWriter
    with tempfile.TemporaryDirectory() as folder:
        writer = SummaryWriter(folder)
        for step in range(1, 6):
            writer.add_scalar("train/loss", 1.0 / step, step)
            writer.add_scalar("train/kl", 0.01 * step, step)
            writer.add_scalar("train/reward", 0.1 * step, step)
        writer.add_scalar("train/grad_norm", float("nan"), 6)
        writer.close()
        for name in os.listdir(folder):
            with open(os.path.join(folder, name), "rb") as f:
                data = f.read()
            write("tensorboard", "tensorboardx", data)
            write("tensorboard", "truncated", data[: len(data) - 7])
            corrupted = bytearray(data)
            corrupted[len(corrupted) // 2] ^= 0xFF
            write("tensorboard", "corrupt-crc", bytes(corrupted))
    wandb_seeds()


def wandb_seeds():
    """wandb: W&B transaction logs framed and encoded as W&B writes them (header, CRC-32 chunks, Record protos),
    built here rather than by W&B, whose run record carries the machine's host name and paths."""
    import struct
    import zlib

    def varint(n):
        out = bytearray()
        while True:
            byte = n & 0x7F
            n >>= 7
            out.append(byte | (0x80 if n else 0))
            if not n:
                return bytes(out)

    def field(number, payload):
        return varint(number << 3 | 2) + varint(len(payload)) + payload

    def history(step, values):
        items = b"".join(field(1, field(1, k.encode()) + field(16, v.encode())) for k, v in values)
        return field(2, items + field(2, varint(1 << 3) + varint(step)))

    def chunk(payload, kind=1):
        return struct.pack("<IHB", zlib.crc32(bytes([kind]) + payload), len(payload), kind) + payload

    header = b":W&B" + struct.pack("<H", 0xBEE1) + b"\x00"
    rows = [history(step, [("train/kl", "0.01"), ("train/loss", "NaN" if step == 4 else "0.3"), ("_step", str(step))])
            for step in range(1, 6)]
    exit_record = field(18, varint(1 << 3) + varint(1))
    data = header + b"".join(chunk(row) for row in rows) + chunk(exit_record)
    write("wandb", "crashed", data)
    write("wandb", "truncated", data[: len(data) - 5])
    split = rows[0]
    write("wandb", "first-last", header + chunk(split[:10], 2) + chunk(split[10:20], 3) + chunk(split[20:], 4))
    corrupted = bytearray(data)
    corrupted[len(corrupted) // 2] ^= 0xFF
    write("wandb", "corrupt-crc", bytes(corrupted))


if __name__ == "__main__":
    import sys
    if sys.argv[1:] == ["wandb"]:
        wandb_seeds()
    else:
        main()
