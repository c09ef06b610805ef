import Metrics
import Tensor
import Testing

/// Threshold selection and Keras's AUC on cases small enough to check by hand.
@Suite("Hand-checked threshold selection and Keras AUC")
struct HandCheckedTests {
    // Thresholds (descending) with (TP, FP) out of 4 positives and 4 negatives:
    // 0.9 (1,0)  0.8 (2,0)  0.7 (3,0)  0.6 (3,1)  0.4 (4,1)  0.3 (4,2)  0.2 (4,3)  0.1 (4,4)
    // Youden's J: .25 .5 .75 .5 .75 .5 .25 0 -> the highest of the two maxima is 0.7.
    let labels = [0, 0, 0, 0, 1, 1, 1, 1]
    let scores = [0.1, 0.2, 0.3, 0.6, 0.4, 0.7, 0.8, 0.9]

    @Test func youdenPicksTheHighestThresholdOfTheMaximalJ() throws {
        let choice = try ThresholdSelection.maximizingYoudenJ(labels: labels, scores: scores)
        #expect(choice == ThresholdChoice(threshold: 0.7, sensitivity: 0.75, specificity: 1))
        #expect(choice.youdenJ == 0.75)
        let fromTensor = try ThresholdSelection.maximizingYoudenJ(labels: labels, scores: Tensor<Double>(scores))
        #expect(fromTensor == choice)
    }

    @Test func requiredSensitivityGivesTheHighestThresholdReachingIt() throws {
        let all = try ThresholdSelection.highestThreshold(reachingSensitivity: 1, labels: labels, scores: scores)
        #expect(all == ThresholdChoice(threshold: 0.4, sensitivity: 1, specificity: 0.75))
        let half = try ThresholdSelection.highestThreshold(reachingSensitivity: 0.5, labels: labels, scores: scores)
        #expect(half == ThresholdChoice(threshold: 0.8, sensitivity: 0.5, specificity: 1))
        // 0.6 is reached only at 0.7 (sensitivity 0.75).
        let sixty = try ThresholdSelection.highestThreshold(
            reachingSensitivity: 0.6, labels: labels, scores: Tensor<Float>(scores.map(Float.init)))
        #expect(sixty.threshold == Double(Float(0.7)) && sixty.sensitivity == 0.75 && sixty.specificity == 1)
        // The seed projects' goal: sensitivity and specificity both at least 90%.
        let goal = try ThresholdSelection.highestThreshold(reachingSensitivity: 0.9, labels: labels, scores: scores)
        #expect(goal.specificity == 0.75)
        #expect(throws: MetricsError.self) {
            try ThresholdSelection.highestThreshold(reachingSensitivity: 0, labels: labels, scores: scores)
        }
        #expect(throws: MetricsError.self) {
            try ThresholdSelection.highestThreshold(reachingSensitivity: 1.5, labels: labels, scores: scores)
        }
    }

    @Test func kerasThresholdGrid() {
        #expect(KerasAUC.thresholds(count: 5) == [-1e-7, 0.25, 0.5, 0.75, 1 + 1e-7])
        let grid = KerasAUC.thresholds(count: 200)
        #expect(grid.count == 200 && grid[1] == 1.0 / 199 && grid[198] == 198.0 / 199)
    }

    @Test func kerasAUCByHand() throws {
        // Three thresholds [-eps, 0.5, 1 + eps]; points (FPR, recall) per threshold.
        // Separated by 0.5: (1,1) (0,1) (0,0) -> area 1.
        #expect(try KerasAUC.rocAUC(labels: [0, 1], scores: [0.2, 0.8], thresholdCount: 3) == 1)
        // Reversed: (1,1) (1,0) (0,0) -> area 0.
        #expect(try KerasAUC.rocAUC(labels: [0, 1], scores: [0.6, 0.4], thresholdCount: 3) == 0)
        // Both in the same cell: (1,1) (0,0) (0,0) -> one trapezoid of height 1/2, although the
        // exact AUC is 1: the grid merges the two scores.
        #expect(try KerasAUC.rocAUC(labels: [0, 1], scores: [0.3, 0.4], thresholdCount: 3) == 0.5)
        #expect(try rocAUCScore(labels: [0, 1], scores: [0.3, 0.4]) == 1)
        // With 11 thresholds 0.3 and 0.4 fall in different cells, a prediction equal to a
        // threshold is not above it: 0.5 is below 0.5 + anything and equal to grid[5].
        #expect(try KerasAUC.rocAUC(labels: [0, 1], scores: [0.3, 0.4], thresholdCount: 11) == 1)
        #expect(try KerasAUC.rocAUC(labels: [0, 1], scores: [0.5, 0.5], thresholdCount: 11) == 0.5)
        #expect(throws: MetricsError.self) { try KerasAUC.rocAUC(labels: [0, 1], scores: [0.3, 0.4], thresholdCount: 1) }
    }

    @Test func exactAUCCountsATiedPairAsOneHalf() throws {
        // Pairs (positive, negative): (0.8, 0.2) win, (0.8, 0.5) win, (0.5, 0.2) win, (0.5, 0.5) tie.
        #expect(try rocAUCScore(labels: [1, 1, 0, 0], scores: [0.8, 0.5, 0.2, 0.5]) == 3.5 / 4)
    }

    @Test func confusionMatrixCountsAndConventions() throws {
        // Score equal to the threshold is positive.
        let m = try ConfusionMatrix(labels: [0, 0, 1, 1, 1], scores: [0.5, 0.2, 0.5, 0.9, 0.1], threshold: 0.5)
        #expect(m.rows == [[1, 1], [1, 2]])
        #expect(m[1, 1] == 2 && m.sampleCount == 5 && m.support == [2, 3] && m.predictedCounts == [2, 3])
        #expect(m.classCounts(of: 1) == ClassCounts(truePositives: 2, falsePositives: 1, falseNegatives: 1, trueNegatives: 1))
        #expect(m.sensitivity() == 2.0 / 3 && m.specificity() == 0.5 && m.precision() == 2.0 / 3)
        #expect(m.negativePredictiveValue() == 0.5 && m.accuracy == 0.6)
        #expect(m.balancedAccuracy == (2.0 / 3 + 0.5) / 2)
        #expect(m.description == "1 1\n1 2")
        var sum = m
        sum.add(m)
        #expect(sum.rows == [[2, 2], [2, 4]])
        sum.reset()
        #expect(sum.sampleCount == 0)
    }
}
