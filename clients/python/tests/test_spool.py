"""The spool file: order, batch boundaries and keys, resuming a drain in a later process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import support
from rlwatch_client._spool import Spool
from rlwatch_client._values import encode_step


def lines(steps) -> list:
    return [encode_step(step, {"loss": float(step)}) for step in steps]


def steps_in(path: Path) -> list:
    return [json.loads(line)["step"] for line in path.read_bytes().splitlines()]


class SpoolTests(support.TempDirTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.path = Path(self.dir, "spool", "run.jsonl")

    def drain(self, spool: Spool) -> list:
        sent = []
        while True:
            head = spool.head()
            if head is None:
                return sent
            batch, key = head
            sent.append(([json.loads(line)["step"] for line in batch], key))
            spool.commit_head(batch)

    def test_fresh_steps_are_batched_up_to_the_batch_size(self) -> None:
        spool = Spool(self.path, batch_size=4)
        for step in range(10):
            spool.append(lines([step]))
        self.assertEqual(spool.pending, 10)
        batches = [steps for steps, _ in self.drain(spool)]
        self.assertEqual(batches, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        self.assertFalse(self.path.exists())
        self.assertFalse(spool.state_path.exists())

    def test_a_batch_that_was_sent_keeps_its_boundaries_and_key(self) -> None:
        spool = Spool(self.path, batch_size=100)
        spool.append(lines(range(3)), key="key-a")
        spool.append(lines(range(3, 5)))
        (first, first_key), (second, second_key) = self.drain(spool)
        self.assertEqual((first, first_key), ([0, 1, 2], "key-a"))
        self.assertEqual(second, [3, 4])
        self.assertNotIn(second_key, (None, "key-a"))

    def test_prepend_puts_an_older_batch_in_front(self) -> None:
        spool = Spool(self.path, batch_size=100)
        spool.append(lines([5, 6]))
        spool.prepend(lines([3, 4]), key="older")
        self.assertEqual(steps_in(self.path), [3, 4, 5, 6])
        batches = self.drain(spool)
        self.assertEqual(batches[0], ([3, 4], "older"))
        self.assertEqual(batches[1][0], [5, 6])

    def test_a_later_process_resumes_where_the_drain_stopped(self) -> None:
        spool = Spool(self.path, batch_size=2)
        spool.append(lines(range(5)))
        batch, key = spool.head()
        spool.commit_head(batch)          # steps 0, 1 delivered
        batch, key = spool.head()         # steps 2, 3 sent with `key`, then the process dies
        spool.close()

        again = Spool(self.path, batch_size=2)
        self.assertEqual(again.pending, 3)
        self.assertEqual(again.inherited, 3)
        self.assertEqual(self.drain(again)[0], ([2, 3], key))

    def test_compact_drops_the_delivered_head_for_a_plain_replay(self) -> None:
        spool = Spool(self.path, batch_size=2)
        spool.append(lines(range(5)))
        batch, _ = spool.head()
        spool.commit_head(batch)
        spool.compact()
        self.assertEqual(steps_in(self.path), [2, 3, 4])
        self.assertEqual(json.loads(spool.state_path.read_text())["offset"], 0)

    def test_a_line_cut_off_by_a_crash_is_dropped_on_load(self) -> None:
        self.path.parent.mkdir(parents=True)
        self.path.write_bytes(b"".join(lines([1, 2])) + b'{"step":3,"lo')
        with self.assertLogs("rlwatch_client", level="WARNING"):
            spool = Spool(self.path, batch_size=10)
        self.assertEqual(spool.pending, 2)
        self.assertEqual(steps_in(self.path), [1, 2])

    def test_an_empty_leftover_file_is_removed(self) -> None:
        self.path.parent.mkdir(parents=True)
        self.path.write_bytes(b"")
        spool = Spool(self.path, batch_size=10)
        self.assertEqual(spool.pending, 0)
        self.assertFalse(os.path.exists(self.path))
