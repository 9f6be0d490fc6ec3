"""Known answers for the QA statistics, computed independently of the node with Debian's scikit-learn and SciPy.

Reads JSON from stdin: a list of {"scores", "labels", "threshold", optional "scores_b"}; prints a list of answers.
DeLong here is Sun & Xu's (2014) fast mid-rank algorithm (scipy.stats.rankdata), not the pairwise definition the
node uses, so the two agree only if both are right.
"""
import json
import sys

import numpy as np
from scipy import stats
from sklearn.metrics import confusion_matrix, roc_auc_score, roc_curve


def delong_components(scores, labels):
    pos, neg = scores[labels], scores[~labels]
    m, n = len(pos), len(neg)
    tx, ty, tz = stats.rankdata(pos), stats.rankdata(neg), stats.rankdata(np.concatenate([pos, neg]))
    auc = (tz[:m].sum() - m * (m + 1) / 2) / (m * n)
    v10 = (tz[:m] - tx) / n
    v01 = 1 - (tz[m:] - ty) / m
    return auc, v10, v01


def answer(case):
    s = np.asarray(case["scores"], dtype=float)
    y = np.asarray(case["labels"], dtype=bool)
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
    best = int(np.argmax(tpr - fpr))
    auc, v10, v01 = delong_components(s, y)
    var = np.var(v10, ddof=1) / len(v10) + np.var(v01, ddof=1) / len(v01)
    z975 = stats.norm.ppf(0.975)
    tn, fp, fn, tp = confusion_matrix(y, s >= case["threshold"], labels=[False, True]).ravel()
    out = {
        "auc": roc_auc_score(y, s),
        "auc_delong": auc,
        "se": float(np.sqrt(var)),
        "ci95": [max(0.0, auc - z975 * np.sqrt(var)), min(1.0, auc + z975 * np.sqrt(var))],
        "roc": [[None if np.isinf(t) else float(t), float(f), float(r)] for t, f, r in zip(thr, fpr, tpr)],
        "youden": {"threshold": float(thr[best]), "sensitivity": float(tpr[best]), "specificity": float(1 - fpr[best])},
        "confusion": {"tp": int(tp), "fp": int(fp), "tn": int(tn), "fn": int(fn),
                      "sensitivity": tp / (tp + fn), "specificity": tn / (tn + fp),
                      "ppv": tp / (tp + fp) if tp + fp else None, "npv": tn / (tn + fn) if tn + fn else None},
    }
    if "scores_b" in case:
        b = np.asarray(case["scores_b"], dtype=float)
        auc_b, w10, w01 = delong_components(b, y)
        s10, s01 = np.cov(np.vstack([v10, w10])), np.cov(np.vstack([v01, w01]))
        var_d = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / len(v10) + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / len(v01)
        z = (auc - auc_b) / np.sqrt(var_d)
        out["delong_test"] = {"auc_b": auc_b, "z": float(z), "p": float(2 * stats.norm.sf(abs(z)))}
    return out


json.dump([answer(c) for c in json.load(sys.stdin)], sys.stdout)
