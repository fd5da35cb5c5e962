"""Tests for tfvidinterp.measures.classification: hand-computed values."""

import numpy as np
import tensorflow as tf

from tfvidinterp.measures import classification


class MetricsTest(tf.test.TestCase):
    def test_top_k_accuracy_counts_label_among_k_best(self):
        logits = np.array([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1], [0.2, 0.3, 0.5]])
        labels = np.array([2, 0, 0])
        self.assertAlmostEqual(
            classification.top_k_accuracy(logits, labels, 1), 1 / 3
        )
        self.assertAlmostEqual(
            classification.top_k_accuracy(logits, labels, 2), 2 / 3
        )
        # k larger than the class count is capped: every label is a hit.
        self.assertAlmostEqual(
            classification.top_k_accuracy(logits, labels, 5), 1.0
        )

    def test_confusion_rows_are_true_classes(self):
        matrix = classification.confusion_matrix([0, 0, 1, 2], [0, 1, 1, 1], 3)
        self.assertAllEqual(matrix, [[1, 1, 0], [0, 1, 0], [0, 1, 0]])

    def test_f1_per_class_by_hand(self):
        # Class 0: tp 1, fp 0, fn 1 -> 2/3; class 1: tp 1, fp 2, fn 0 -> 0.5;
        # class 2: no hit -> 0.
        matrix = classification.confusion_matrix([0, 0, 1, 2], [0, 1, 1, 1], 3)
        self.assertAllClose(
            classification.f1_per_class(matrix), [2 / 3, 0.5, 0.0]
        )

    def test_f1_of_absent_class_is_zero_not_nan(self):
        matrix = classification.confusion_matrix([0, 0], [0, 0], 2)
        self.assertAllClose(classification.f1_per_class(matrix), [1.0, 0.0])

    def test_report_is_json_ready(self):
        logits = np.eye(3)[[0, 1, 2, 1]]
        report = classification.classification_report(
            logits, [0, 1, 2, 2], ["a", "b", "c"]
        )
        self.assertEqual(report["num_clips"], 4)
        self.assertAlmostEqual(report["top1"], 0.75)
        self.assertAlmostEqual(report["f1"]["c"], 2 / 3)
        self.assertEqual(report["confusion_matrix"][2], [0, 1, 1])


if __name__ == "__main__":
    tf.test.main()
