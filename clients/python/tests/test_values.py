"""Converting logged values to JSON numbers: duck-typed tensors, bad values, strict JSON."""

from __future__ import annotations

import decimal
import fractions
import json
import math
import unittest

import support  # noqa: F401  (puts the client on sys.path)
from rlwatch_client._values import ValueCleaner, encode_step, merge_same_steps, to_number, to_number_list


class FakeTensor:
    """Quacks like a torch tensor: ``item()`` only for one element, ``tolist()``, ``detach().cpu()``."""

    def __init__(self, values, fail_direct: bool = False) -> None:
        self.values = values
        self.fail_direct = fail_direct

    def __len__(self) -> int:
        return len(self.values) if isinstance(self.values, list) else 1

    def item(self):
        if self.fail_direct:
            raise RuntimeError("call .detach() first")
        if isinstance(self.values, list):
            if len(self.values) != 1:
                raise ValueError("only one element tensors can be converted to Python scalars")
            return self.values[0]
        return self.values

    def tolist(self):
        if self.fail_direct:
            raise RuntimeError("call .detach() first")
        return self.values

    def detach(self) -> "FakeTensor":
        return self

    def cpu(self) -> "FakeTensor":
        return FakeTensor(self.values)


class ToNumberTests(unittest.TestCase):
    def test_plain_numbers_pass_through(self) -> None:
        self.assertEqual(to_number(1.5), 1.5)
        self.assertEqual(to_number(3), 3)
        self.assertIs(type(to_number(3)), int)

    def test_bools_count_as_zero_and_one(self) -> None:
        self.assertEqual(to_number(True), 1.0)
        self.assertEqual(to_number(False), 0.0)

    def test_other_numeric_types_go_through_float(self) -> None:
        self.assertEqual(to_number(decimal.Decimal("2.5")), 2.5)
        self.assertEqual(to_number(fractions.Fraction(1, 4)), 0.25)

    def test_strings_and_containers_are_not_numbers(self) -> None:
        for value in ("1.5", b"1", None, [1.0], {"a": 1}, object()):
            with self.subTest(value=value):
                self.assertIsNone(to_number(value))

    def test_tensor_like_values_use_item(self) -> None:
        self.assertEqual(to_number(FakeTensor([2.0])), 2.0)
        self.assertEqual(to_number(FakeTensor(4.0)), 4.0)
        self.assertIsNone(to_number(FakeTensor([1.0, 2.0])))

    def test_tensor_needing_detach_falls_back_to_detach_cpu(self) -> None:
        self.assertEqual(to_number(FakeTensor(3.0, fail_direct=True)), 3.0)
        self.assertEqual(to_number_list(FakeTensor([1.0, 2.0], fail_direct=True)).tolist(), [1.0, 2.0])


class ToNumberListTests(unittest.TestCase):
    def test_flat_and_nested_lists_flatten_to_floats(self) -> None:
        self.assertEqual(to_number_list([1, 2.5, True]).tolist(), [1.0, 2.5, 1.0])
        self.assertEqual(to_number_list([[1, 2], [3]]).tolist(), [1.0, 2.0, 3.0])
        self.assertEqual(to_number_list((x / 2 for x in range(3))).tolist(), [0.0, 0.5, 1.0])

    def test_a_scalar_array_becomes_one_reward(self) -> None:
        self.assertEqual(to_number_list(FakeTensor(5.0)).tolist(), [5.0])

    def test_non_numeric_rewards_are_refused(self) -> None:
        for value in (["a", 1.0], [None], "abc", {"a": 1}, 3.0):
            with self.subTest(value=value):
                self.assertIsNone(to_number_list(value))

    def test_result_is_a_copy(self) -> None:
        buffer = [1.0, 2.0]
        rewards = to_number_list(buffer)
        buffer[0] = 99.0
        self.assertEqual(rewards.tolist(), [1.0, 2.0])


class CleanerTests(unittest.TestCase):
    def test_bad_values_are_dropped_with_one_warning_per_key(self) -> None:
        cleaner = ValueCleaner()
        with self.assertLogs("rlwatch_client", level="WARNING") as logs:
            for _ in range(3):
                out = cleaner.clean({"ok": 1.0, "text": "high", "obj": object(), "vec": [1.0, 2.0]})
                self.assertEqual(out, {"ok": 1.0})
        self.assertEqual(len(logs.records), 3)  # text, obj, vec: once each
        self.assertTrue(any("'text'" in record.getMessage() for record in logs.records))

    def test_none_means_not_logged_and_is_silent(self) -> None:
        cleaner = ValueCleaner()
        with support.captured_log() as records:
            self.assertEqual(cleaner.clean({"entropy": None, "kl": 0.1}), {"kl": 0.1})
        self.assertEqual(records, [])

    def test_nested_dicts_flatten_with_slash(self) -> None:
        out = ValueCleaner().clean({"actor": {"entropy": 1.0, "kl": {"loss": 2}}, "x": 3})
        self.assertEqual(out, {"actor/entropy": 1.0, "actor/kl/loss": 2, "x": 3})

    def test_a_step_key_inside_the_metrics_is_dropped(self) -> None:
        self.assertEqual(ValueCleaner().clean({"step": 7, "loss": 1.0}), {"loss": 1.0})

    def test_step_must_be_integral(self) -> None:
        cleaner = ValueCleaner()
        self.assertEqual(cleaner.clean_step(5), 5)
        self.assertEqual(cleaner.clean_step(5.0), 5)
        self.assertEqual(cleaner.clean_step(FakeTensor(6)), 6)
        with self.assertLogs("rlwatch_client", level="WARNING"):
            for bad in (5.5, "5", None, float("nan"), True):
                with self.subTest(step=bad):
                    self.assertIsNone(cleaner.clean_step(bad))

    def test_hostile_mapping_does_not_raise(self) -> None:
        class Exploding(dict):
            def items(self):
                raise RuntimeError("boom")

        with self.assertLogs("rlwatch_client", level="WARNING"):
            self.assertEqual(ValueCleaner().clean(Exploding(a=1)), {})


class EncodeTests(unittest.TestCase):
    def test_non_finite_numbers_become_strings_in_strict_json(self) -> None:
        line = encode_step(3, {"loss": float("nan"), "grad_norm": float("inf"), "kl": -math.inf,
                               "rewards": to_number_list([1.0, float("nan")])})
        self.assertTrue(line.endswith(b"\n"))
        self.assertEqual(json.loads(line), {"step": 3, "loss": "NaN", "grad_norm": "Infinity", "kl": "-Infinity",
                                            "rewards": [1.0, "NaN"]})
        self.assertNotIn(b"NaN,", line.replace(b'"NaN"', b""))

    def test_same_step_logged_twice_in_a_row_is_merged(self) -> None:
        merged = merge_same_steps([(1, {"a": 1.0}), (1, {"b": 2.0}), (2, {"a": 3.0}), (1, {"a": 4.0})])
        self.assertEqual(merged, [(1, {"a": 1.0, "b": 2.0}), (2, {"a": 3.0}), (1, {"a": 4.0})])


class NumpyTests(unittest.TestCase):
    def setUp(self) -> None:
        try:
            import numpy
        except ImportError:
            self.skipTest("numpy is not installed")
        self.np = numpy

    def test_numpy_scalars_and_arrays(self) -> None:
        np = self.np
        out = ValueCleaner().clean({
            "f32": np.float32(1.5), "i64": np.int64(3), "b": np.bool_(True), "zero_d": np.array(2.5),
            "one": np.array([4.0]), "rewards": np.arange(6, dtype=np.float32).reshape(2, 3),
        })
        self.assertEqual(out["f32"], 1.5)
        self.assertEqual(out["i64"], 3)
        self.assertEqual(out["b"], 1.0)
        self.assertEqual(out["zero_d"], 2.5)
        self.assertEqual(out["one"], 4.0)
        self.assertEqual(out["rewards"].tolist(), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
        self.assertEqual(json.loads(encode_step(1, out))["rewards"], [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])


if __name__ == "__main__":
    unittest.main()
