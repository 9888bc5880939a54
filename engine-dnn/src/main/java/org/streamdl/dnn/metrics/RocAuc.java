package org.streamdl.dnn.metrics;

import java.util.Arrays;
import org.streamdl.tensor.Checks;

/**
 * Area under the ROC curve of binary scores: the probability that a random positive scores above a
 * random negative, ties counting one half (the Mann–Whitney U statistic, computed from average
 * ranks in O(n log n)).
 */
public final class RocAuc {
    private RocAuc() {}

    public static double of(double[] scores, boolean[] positive) {
        Checks.argument(scores.length == positive.length, "%s scores but %s labels", scores.length, positive.length);
        int n = scores.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (x, y) -> Double.compare(scores[x], scores[y]));
        double positiveRankSum = 0;
        long positives = 0;
        for (int i = 0; i < n; ) {
            int j = i;
            while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) {
                j++;
            }
            double averageRank = (i + j) / 2.0 + 1;    // ranks from 1; ties share their mean rank
            for (int k = i; k <= j; k++) {
                if (positive[order[k]]) {
                    positiveRankSum += averageRank;
                    positives++;
                }
            }
            i = j + 1;
        }
        long negatives = n - positives;
        Checks.argument(positives > 0 && negatives > 0,
                "ROC AUC needs both classes but got %s positives and %s negatives", positives, negatives);
        return (positiveRankSum - positives * (positives + 1) / 2.0) / ((double) positives * negatives);
    }
}
