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
    static func blockSums<Body: ChannelSumsBody>(
        _ tiling: Tiling, into first: UnsafeMutablePointer<Double>, _ second: UnsafeMutablePointer<Double>, _ body: Body
    ) {
        let (width, channels) = (tiling.width, tiling.channels)
        let rowsPerBlock = blockRows(tiling)
        let blocks = (tiling.wideRows + rowsPerBlock - 1) / rowsPerBlock
        // Block b's sums at partials[2 * b * width ..< 2 * (b + 1) * width]; the tail's after them.
        let partialCount = 2 * (blocks * width + channels)
        withScratchBuffer(count: partialCount) { (partials: UnsafeMutablePointer<Double>) in
            zeroFill(partials, count: partialCount)
            Parallel.forEachRange(blocks, minimumPerThread: 1, BlockSumsLoop(
                body: body, partials: UncheckedSendable(partials), tiling: tiling, rowsPerBlock: rowsPerBlock))
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
        withScratchBuffer(count: tiling.width) { (shift: UnsafeMutablePointer<Double>) in
            tiling.repeated(x, shift) { Double($0) }
            // The sums go to `mean` and the sums of squares to `variance`, then are replaced.
            blockSums(tiling, into: mean, variance, MomentsBody(
                x: UncheckedSendable(x), shift: UncheckedSendable(UnsafePointer(shift)), channels: channels))
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
        withReLU(relu, tiling) { reluParameters in
            withScratchBuffer(count: tiling.width) { (k: UnsafeMutablePointer<Double>) in
                tiling.repeated(shift, k) { $0 }
                blockSums(tiling, into: sumG, sumGX, GradientSumsBody(
                    g: UncheckedSendable(g), x: UncheckedSendable(x), relu: UncheckedSendable(reluParameters),
                    shift: UncheckedSendable(UnsafePointer(k)), channels: channels))
            }
        }
    }

    /// Runs `body(row, count, width)` over the wide rows in parallel, then over the tail rows.
    static func forEachRows<Body: ChannelRowsBody>(_ tiling: Tiling, _ body: Body) {
        Parallel.forEachRange(tiling.wideRows, minimumPerThread: blockRows(tiling), RowsLoop(body: body, tiling: tiling))
        if tiling.tailRows > 0 { body(tiling.wideRows * tiling.copies, tiling.tailRows, tiling.channels) }
    }

    /// `out = map(x)` per channel over `rows` rows of `channels`, then replaced by
    /// `out > 0 ? out : 0` when `relu`. Allocates nothing.
    package static func affine(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, channels: Int, map: AffineMap, relu: Bool
    ) {
        let tiling = Tiling(rows: rows, channels: channels)
        map.withRepeated(tiling) { parameters in
            forEachRows(tiling, AffineBody(
                x: UncheckedSendable(x), out: UncheckedSendable(out), parameters: UncheckedSendable(parameters),
                channels: channels, relu: relu))
        }
    }

    /// `out = m * gradientFactor + map(x)` per channel, with `m` the gradient masked as in
    /// ``gradientSums(_:_:relu:rows:channels:shift:sumG:sumGX:)``. Allocates nothing.
    package static func affineBackward(
        _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, relu: AffineMap?, _ out: UnsafeMutablePointer<Float>,
        rows: Int, channels: Int, map: AffineMap, gradientFactor: UnsafePointer<Double>
    ) {
        let tiling = Tiling(rows: rows, channels: channels)
        withReLU(relu, tiling) { reluParameters in
            map.withRepeated(tiling) { parameters in
                withScratchBuffer(count: tiling.width) { (gf: UnsafeMutablePointer<Float>) in
                    tiling.repeated(gradientFactor, gf) { Float($0) }
                    forEachRows(tiling, AffineBackwardBody(
                        g: UncheckedSendable(g), x: UncheckedSendable(x), relu: UncheckedSendable(reluParameters),
                        out: UncheckedSendable(out), parameters: UncheckedSendable(parameters),
                        gradientFactor: UncheckedSendable(UnsafePointer(gf)), channels: channels))
                }
            }
        }
    }
}

/// The body of ``BatchNormKernels/blockSums(_:into:_:_:)``: adds two per-channel sums over `count`
/// rows of `width` starting at row `row` into `first` and `second` (`width` each).
protocol ChannelSumsBody: Sendable {
    /// Adds the sums of rows `row ..< row + count` (rows of `width`) into `first` and `second`.
    func callAsFunction(
        _ row: Int, _ count: Int, _ width: Int, _ first: UnsafeMutablePointer<Double>, _ second: UnsafeMutablePointer<Double>)
}

/// The body of ``BatchNormKernels/forEachRows(_:_:)``: runs on `count` rows of `width` starting at row `row`.
protocol ChannelRowsBody: Sendable {
    /// Runs on rows `row ..< row + count` (rows of `width`).
    func callAsFunction(_ row: Int, _ count: Int, _ width: Int)
}

/// ``BatchNormKernels/blockSums(_:into:_:_:)``'s loop body: a range of fixed blocks of wide rows,
/// each block into its own partial sums.
private struct BlockSumsLoop<Body: ChannelSumsBody>: ParallelLoopBody {
    let body: Body
    let partials: UncheckedSendable<UnsafeMutablePointer<Double>>
    let tiling: BatchNormKernels.Tiling
    let rowsPerBlock: Int

    func callAsFunction(_ range: Range<Int>) {
        let width = tiling.width
        for b in range {
            let first = b * rowsPerBlock
            let sums = partials.value + 2 * b * width
            body(first * tiling.copies, Swift.min(rowsPerBlock, tiling.wideRows - first), width, sums, sums + width)
        }
    }
}

/// ``BatchNormKernels/forEachRows(_:_:)``'s loop body: a range of wide rows.
private struct RowsLoop<Body: ChannelRowsBody>: ParallelLoopBody {
    let body: Body
    let tiling: BatchNormKernels.Tiling

    func callAsFunction(_ range: Range<Int>) { body(range.lowerBound * tiling.copies, range.count, tiling.width) }
}

/// ``BatchNormKernels/moments(_:rows:channels:mean:variance:)``'s sums: the C kernel on a range of rows.
private struct MomentsBody: ChannelSumsBody {
    let x: UncheckedSendable<UnsafePointer<Float>>
    let shift: UncheckedSendable<UnsafePointer<Double>>
    let channels: Int

    func callAsFunction(
        _ row: Int, _ count: Int, _ width: Int, _ sum: UnsafeMutablePointer<Double>, _ sumSquares: UnsafeMutablePointer<Double>
    ) {
        ck_channel_moments_f32(x.value + row * channels, count, width, shift.value, sum, sumSquares)
    }
}

/// ``BatchNormKernels/gradientSums(_:_:relu:rows:channels:shift:sumG:sumGX:)``'s sums: the C kernel
/// on a range of rows.
private struct GradientSumsBody: ChannelSumsBody {
    let g, x: UncheckedSendable<UnsafePointer<Float>>
    let relu: UncheckedSendable<UnsafePointer<ck_channel_relu>?>
    let shift: UncheckedSendable<UnsafePointer<Double>>
    let channels: Int

    func callAsFunction(
        _ row: Int, _ count: Int, _ width: Int, _ sumG: UnsafeMutablePointer<Double>, _ sumGX: UnsafeMutablePointer<Double>
    ) {
        let offset = row * channels
        ck_channel_gradient_sums_f32(g.value + offset, x.value + offset, relu.value, count, width, shift.value, sumG, sumGX)
    }
}

/// ``BatchNormKernels/affine(_:_:rows:channels:map:relu:)``'s body: the C kernel on a range of rows.
private struct AffineBody: ChannelRowsBody {
    let x: UncheckedSendable<UnsafePointer<Float>>
    let out: UncheckedSendable<UnsafeMutablePointer<Float>>
    let parameters: UncheckedSendable<ck_channel_relu>
    let channels: Int
    let relu: Bool

    func callAsFunction(_ row: Int, _ count: Int, _ width: Int) {
        let offset = row * channels
        let p = parameters.value
        ck_channel_affine_f32(x.value + offset, out.value + offset, count, width, p.shift, p.factor, p.offset, relu ? 1 : 0)
    }
}

/// ``BatchNormKernels/affineBackward(_:_:relu:_:rows:channels:map:gradientFactor:)``'s body: the C
/// kernel on a range of rows.
private struct AffineBackwardBody: ChannelRowsBody {
    let g, x: UncheckedSendable<UnsafePointer<Float>>
    let relu: UncheckedSendable<UnsafePointer<ck_channel_relu>?>
    let out: UncheckedSendable<UnsafeMutablePointer<Float>>
    let parameters: UncheckedSendable<ck_channel_relu>
    let gradientFactor: UncheckedSendable<UnsafePointer<Float>>
    let channels: Int

    func callAsFunction(_ row: Int, _ count: Int, _ width: Int) {
        let offset = row * channels
        let p = parameters.value
        ck_channel_affine_backward_f32(
            g.value + offset, x.value + offset, relu.value, out.value + offset, count, width,
            p.shift, p.factor, p.offset, gradientFactor.value)
    }
}
