import CKernels

// The Float kernels of batch normalization over channels-last tensors (`[rows, channels]`, the
// channel axis contiguous), on the C kernels of `CKernels`, split across cores. The Layers
// module's `BatchNorm` calls them for Float NHWC inputs; Double and other layouts keep its Swift
// loops.

/// The Float channels-last (`inner == 1`) batch-normalization kernels.
///
/// A tensor is viewed as rows of `width = channels * copies` elements (`copies` rows of channels
/// side by side, with the per-channel parameters repeated), so the kernels' inner loops are long
/// enough to vectorize even for 32 channels; the last `rows % copies` rows run with `width ==
/// channels`. Statistics are summed in Double per fixed block of rows and the blocks added in
/// order, so the results do not depend on the number of threads.
package enum BatchNormKernels {
    /// The wide-row view of `rows` rows of `channels`.
    struct Tiling {
        /// Channels per row of the tensor.
        let channels: Int
        /// Rows of channels side by side in a wide row.
        let copies: Int
        /// Elements per wide row.
        var width: Int { channels * copies }
        /// Rows of `width` elements.
        let wideRows: Int
        /// Rows of `channels` elements after them.
        let tailRows: Int

        /// The view of `rows` rows of `channels`.
        init(rows: Int, channels: Int) {
            self.channels = channels
            // A multiple of 16 lanes, at least 64 wide, unless that makes the row too long.
            var copies = 16 / Tiling.gcd(channels, 16)
            while channels * copies < 64 { copies *= 2 }
            if channels * copies > 2048 { copies = 1 }
            self.copies = copies
            wideRows = rows / copies
            tailRows = rows % copies
        }

        /// Writes `values` (one per channel) converted by `convert`, repeated `copies` times, at `out`
        /// (`width` elements).
        @inline(__always)
        func repeated<T, U>(_ values: UnsafePointer<T>, _ out: UnsafeMutablePointer<U>, _ convert: (T) -> U) {
            for copy in 0..<copies {
                for c in 0..<channels { out[copy * channels + c] = convert(values[c]) }
            }
        }

        private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? Swift.max(a, 1) : gcd(b, a % b) }
    }

    /// Elements per thread (and per statistics block) below which work is not split.
    static let elementsPerBlock = 1 << 15

    /// Wide rows per block of `tiling`.
    static func blockRows(_ tiling: Tiling) -> Int { Swift.max(1, elementsPerBlock / tiling.width) }

    /// Per-channel sums of two quantities (`body(rows, count, width, first, second)` adds them over
    /// `count` rows of `width` starting at row `rows`), over fixed blocks of wide rows in parallel,
    /// then over the tail rows, folded to one value per channel in a fixed order into `first` and
    /// `second` (`channels` each, overwritten). The partial sums live in a scratch buffer.
    static func blockSums(
        _ tiling: Tiling, into first: UnsafeMutablePointer<Double>, _ second: UnsafeMutablePointer<Double>,
        _ body: (_ row: Int, _ count: Int, _ width: Int, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Void
    ) {
        let (width, channels) = (tiling.width, tiling.channels)
        let rowsPerBlock = blockRows(tiling)
        let blocks = (tiling.wideRows + rowsPerBlock - 1) / rowsPerBlock
        // Block b's sums at partials[2 * b * width ..< 2 * (b + 1) * width]; the tail's after them.
        let partialCount = 2 * (blocks * width + channels)
        withScratchBuffer(count: partialCount) { (partials: UnsafeMutablePointer<Double>) in
            zeroFill(partials, count: partialCount)
            let base = UncheckedSendable(partials)
            // `body` captured directly (no generic wrapper, which would allocate a thunk per call).
            Parallel.forEachRange(blocks, minimumPerThread: 1) { range in
                for b in range {
                    let first = b * rowsPerBlock
                    let sums = base.value + 2 * b * width
                    body(first * tiling.copies, Swift.min(rowsPerBlock, tiling.wideRows - first), width, sums, sums + width)
                }
            }
            if tiling.tailRows > 0 {
                let sums = partials + 2 * blocks * width
                body(tiling.wideRows * tiling.copies, tiling.tailRows, channels, sums, sums + channels)
            }
            first.update(repeating: 0, count: channels)
            second.update(repeating: 0, count: channels)
            for b in 0..<blocks {
                for copy in 0..<tiling.copies {
                    let offset = 2 * b * width + copy * channels
                    for c in 0..<channels {
                        first[c] += partials[offset + c]
                        second[c] += partials[offset + width + c]
                    }
                }
            }
            let tail = 2 * blocks * width
            for c in 0..<channels {
                first[c] += partials[tail + c]
                second[c] += partials[tail + channels + c]
            }
        }
    }

    /// The per-channel mean and biased variance of `rows` rows of `channels`, in one pass, written
    /// to `mean` and `variance` (`channels` each): the sums of `x - k` and `(x - k)^2` with `k` the
    /// first row (a value of the data, close enough to the mean that the Double sums lose nothing
    /// that matters), then `mean = k + S1 / m` and `variance = (S2 - S1^2 / m) / m`. Allocates
    /// nothing (scratch through `withScratchBuffer`).
    package static func moments(
        _ x: UnsafePointer<Float>, rows: Int, channels: Int, mean: UnsafeMutablePointer<Double>,
        variance: UnsafeMutablePointer<Double>
    ) {
        let tiling = Tiling(rows: rows, channels: channels)
        let xp = UncheckedSendable(x)
        withScratchBuffer(count: tiling.width) { (shift: UnsafeMutablePointer<Double>) in
            tiling.repeated(x, shift) { Double($0) }
            let kp = UncheckedSendable(UnsafePointer(shift))
            // The sums go to `mean` and the sums of squares to `variance`, then are replaced.
            blockSums(tiling, into: mean, variance) { row, count, width, sum, sumSquares in
                ck_channel_moments_f32(xp.value + row * channels, count, width, kp.value, sum, sumSquares)
            }
        }
        let m = Double(rows)
        for c in 0..<channels {
            let sums = mean[c], squares = variance[c]
            mean[c] = Double(x[c]) + sums / m
            variance[c] = Swift.max(0, (squares - sums * sums / m) / m)
        }
    }

    /// A per-channel affine map `(x - shift) * factor + offset`, its parameters in Double (one per
    /// channel at each pointer, owned by the caller); the kernels apply it in Float (each
    /// parameter converted with `Float(_:)`).
    package struct AffineMap {
        /// Subtracted first.
        package let shift: UnsafePointer<Double>
        /// Then multiplied.
        package let factor: UnsafePointer<Double>
        /// Then added.
        package let offset: UnsafePointer<Double>

        /// The map of the parameters at `shift`, `factor` and `offset`.
        package init(shift: UnsafePointer<Double>, factor: UnsafePointer<Double>, offset: UnsafePointer<Double>) {
            (self.shift, self.factor, self.offset) = (shift, factor, offset)
        }

        /// Calls `body` with the parameters in Float, repeated for `tiling`'s wide rows (in a
        /// scratch buffer).
        func withRepeated<R>(_ tiling: Tiling, _ body: (ck_channel_relu) -> R) -> R {
            let width = tiling.width
            return withScratchBuffer(count: 3 * width) { (p: UnsafeMutablePointer<Float>) in
                tiling.repeated(shift, p) { Float($0) }
                tiling.repeated(factor, p + width) { Float($0) }
                tiling.repeated(offset, p + 2 * width) { Float($0) }
                return body(ck_channel_relu(shift: p, factor: p + width, offset: p + 2 * width))
            }
        }
    }

    /// Calls `body` with a pointer to `relu`'s repeated parameters, or `nil`.
    static func withReLU<R>(_ relu: AffineMap?, _ tiling: Tiling, _ body: (UnsafePointer<ck_channel_relu>?) -> R) -> R {
        guard let relu else { return body(nil) }
        return relu.withRepeated(tiling) { parameters in withUnsafePointer(to: parameters) { body($0) } }
    }

    /// Per channel: the sums of `g` and of `g * (x - shift)` into `sumG` and `sumGX` (`channels`
    /// each, overwritten), with `g` taken as 0 where the affine map `relu` of `x` is not `> 0` when
    /// `relu` is given (the gradient through a ReLU after that map, recomputed from `x` exactly as
    /// ``affine(_:_:rows:channels:map:relu:)`` computes it).
    package static func gradientSums(
        _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, relu: AffineMap?, rows: Int, channels: Int,
        shift: UnsafePointer<Double>, sumG: UnsafeMutablePointer<Double>, sumGX: UnsafeMutablePointer<Double>
    ) {
        let tiling = Tiling(rows: rows, channels: channels)
        let (gp, xp) = (UncheckedSendable(g), UncheckedSendable(x))
        withReLU(relu, tiling) { reluParameters in
            let rp = UncheckedSendable(reluParameters)
            withScratchBuffer(count: tiling.width) { (k: UnsafeMutablePointer<Double>) in
                tiling.repeated(shift, k) { $0 }
                let kp = UncheckedSendable(UnsafePointer(k))
                blockSums(tiling, into: sumG, sumGX) { row, count, width, sumG, sumGX in
                    let offset = row * channels
                    ck_channel_gradient_sums_f32(gp.value + offset, xp.value + offset, rp.value, count, width, kp.value, sumG, sumGX)
                }
            }
        }
    }

    /// Runs `body(row, count, width)` over the wide rows in parallel, then over the tail rows.
    static func forEachRows(_ tiling: Tiling, _ body: (_ row: Int, _ count: Int, _ width: Int) -> Void) {
        Parallel.forEachRange(tiling.wideRows, minimumPerThread: blockRows(tiling)) { range in
            body(range.lowerBound * tiling.copies, range.count, tiling.width)
        }
        if tiling.tailRows > 0 { body(tiling.wideRows * tiling.copies, tiling.tailRows, tiling.channels) }
    }

    /// `out = map(x)` per channel over `rows` rows of `channels`, then replaced by
    /// `out > 0 ? out : 0` when `relu`. Allocates nothing.
    package static func affine(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, channels: Int, map: AffineMap, relu: Bool
    ) {
        let tiling = Tiling(rows: rows, channels: channels)
        let (xp, op) = (UncheckedSendable(x), UncheckedSendable(out))
        map.withRepeated(tiling) { parameters in
            let p = UncheckedSendable(parameters)
            forEachRows(tiling) { row, count, width in
                let offset = row * tiling.channels
                ck_channel_affine_f32(
                    xp.value + offset, op.value + offset, count, width, p.value.shift, p.value.factor, p.value.offset,
                    relu ? 1 : 0)
            }
        }
    }

    /// `out = m * gradientFactor + map(x)` per channel, with `m` the gradient masked as in
    /// ``gradientSums(_:_:relu:rows:channels:shift:sumG:sumGX:)``. Allocates nothing.
    package static func affineBackward(
        _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, relu: AffineMap?, _ out: UnsafeMutablePointer<Float>,
        rows: Int, channels: Int, map: AffineMap, gradientFactor: UnsafePointer<Double>
    ) {
        let tiling = Tiling(rows: rows, channels: channels)
        let (gp, xp, op) = (UncheckedSendable(g), UncheckedSendable(x), UncheckedSendable(out))
        withReLU(relu, tiling) { reluParameters in
            let rp = UncheckedSendable(reluParameters)
            map.withRepeated(tiling) { parameters in
                let p = UncheckedSendable(parameters)
                withScratchBuffer(count: tiling.width) { (gf: UnsafeMutablePointer<Float>) in
                    tiling.repeated(gradientFactor, gf) { Float($0) }
                    let gfp = UncheckedSendable(UnsafePointer(gf))
                    forEachRows(tiling) { row, count, width in
                        let offset = row * tiling.channels
                        ck_channel_affine_backward_f32(
                            gp.value + offset, xp.value + offset, rp.value, op.value + offset, count, width,
                            p.value.shift, p.value.factor, p.value.offset, gfp.value)
                    }
                }
            }
        }
    }
}
