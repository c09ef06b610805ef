import Foundation
import Testing

@testable import pneumonia

/// `pneumonia bench`: the JSON line the issue specifies, with its measured values.
@Suite("pneumonia bench")
struct PneumoniaBenchTests {
    @Test("bench prints one JSON line with the contract's keys, for training and inference")
    func jsonLine() throws {
        for mode in ["train", "infer"] {
            let bench = try Bench.parse(["--model", "dense", "--mode", mode, "--batch-size", "4", "--steps", "2"])
            let result = try bench.measure()
            #expect(result.model == "dense" && result.mode == mode && result.batch == 4)
            #expect(result.imagesPerSecond > 0 && result.stepMillisecondsMedian > 0 && result.peakResidentMegabytes > 0)
            #expect(result.pageFaultsPerStep >= 0 && result.pageFaultsLastStep >= 0)
            #expect(!result.blasCore.isEmpty)
            let line = result.jsonLine
            #expect(!line.contains("\n"))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(Set(object.keys) == ["model", "mode", "batch", "images_per_s", "step_ms_median", "peak_rss_mb",
                                         "page_faults_per_step", "page_faults_last_step", "blas_core"])
            let decoded = try JSONDecoder().decode(Bench.Result.self, from: Data(line.utf8))
            #expect(decoded.model == "dense" && decoded.batch == 4)
        }
    }

    @Test("bench's warm-up options: defaults like the comparison's peers, bad values refused by name")
    func warmupOptions() throws {
        let defaults = try Bench.parse(["--model", "dense"])
        #expect(defaults.warmup == 2 && defaults.warmupSeconds == 0.2)
        for bad in [["--warmup", "0"], ["--warmup-seconds", "-1"], ["--warmup-seconds", "nan"]] {
            #expect(throws: (any Error).self, "\(bad) was accepted") { try Bench.parse(["--model", "dense"] + bad) }
        }
        let quick = try Bench.parse(["--model", "dense", "--mode", "infer", "--batch-size", "2", "--steps", "1", "--warmup", "1", "--warmup-seconds", "0"])
        #expect(try quick.measure().batch == 2)
    }
}
