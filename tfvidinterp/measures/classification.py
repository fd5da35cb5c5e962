"""Classification metrics of the paper's Tables 1 and 2, in plain NumPy."""

import numpy as np


def top_k_accuracy(logits, labels, k):
    """Fraction of clips whose label is among the `k` highest logits.

    Args:
        logits: `(clips, classes)` scores.
        labels: `(clips,)` integer labels.
        k: How many top classes count as a hit (capped at the class count).
    """
    logits = np.asarray(logits)
    k = min(k, logits.shape[1])
    top = np.argsort(-logits, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(top == np.asarray(labels)[:, None], axis=1)))


def confusion_matrix(labels, predictions, num_classes):
    """`(classes, classes)` counts; row = true class, column = prediction."""
    matrix = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predictions)), 1)
    return matrix


def f1_per_class(confusion):
    """Per-class F1 from a confusion matrix; 0 where a class has no support
    and no predictions (precision and recall are both undefined there)."""
    confusion = np.asarray(confusion, np.float64)
    hits = np.diag(confusion)
    denominator = confusion.sum(axis=0) + confusion.sum(axis=1)
    return np.divide(
        2 * hits, denominator, out=np.zeros_like(hits), where=denominator > 0
    )


def classification_report(logits, labels, class_names):
    """Top-1, top-5, per-class F1, macro F1 and the confusion matrix.

    Args:
        logits: `(clips, classes)` scores.
        labels: `(clips,)` integer labels.
        class_names: Names of the classes, in label order.

    Returns:
        A JSON-ready dict.
    """
    predictions = np.argmax(logits, axis=1)
    confusion = confusion_matrix(labels, predictions, len(class_names))
    f1 = f1_per_class(confusion)
    return {
        "num_clips": int(len(labels)),
        "top1": top_k_accuracy(logits, labels, 1),
        "top5": top_k_accuracy(logits, labels, 5),
        "macro_f1": float(np.mean(f1)),
        "f1": {name: float(v) for name, v in zip(class_names, f1)},
        "confusion_matrix": confusion.tolist(),
    }
