import CKernels

// Winograd convolution F(4x4, 3x3) for 3x3 kernels at stride 1 and dilation 1 (valid or same
// padding): the forward pass, the gradient with respect to the input and (Float) the gradient with
// respect to the filter.
//
// Each 4 x 4 block of outputs (a "tile") is computed from the 6 x 6 input patch around it as
// `A^T [(G g G^T) .* (B^T d B)] A`: 36 multiplications per input-output channel pair instead of
// 144. Over all channels the elementwise products become 36 matrix products, one per
// transform-domain element e: `M_e [tiles, Cout] = V_e [tiles, Cin] * U_e [Cin, Cout]`.
//
// Float runs the C kernels of `CKernels` (winograd.c): blocks of tiles split across threads, each
// block's input transform, products (a register-blocked micro-kernel, no BLAS) and output transform
// (with the fused bias + ReLU) done while the block is in cache; the filter gradient sums
// `V_e^T (A dY A^T)_e` over the tiles in the transform domain, per-thread partial sums added in
// part order. Double (the gradient checks) runs the Swift code below: tiles in chunks of about
// 2 MiB of transformed data, one BLAS ?gemm per element e and chunk, the transforms on `SIMD8`
// vectors along the contiguous channel axis. Its layouts: V holds each tile's 36 transformed rows
// of Cin contiguously (`[tiles, E, Cin]`), so GEMM e reads every 36th row (`lda = E * Cin`); M is
// `[tiles, E, Cout]` likewise; U is `[E, Cin, Cout]`.
//
// The gradient with respect to the input of a stride-1 3x3 convolution is a convolution of the
// output gradient with the kernel rotated by 180 degrees and its channel axes swapped, padded by
// `2 - pad` before, so it runs through the same code with a differently transformed filter.
//
// Transform matrices: Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks" (2016),
// interpolation points 0, 1, -1, 2, -2 and the point at infinity. (F(2x2, 3x3) was dropped: F(4x4)
// needs fewer multiplications at every seed-model shape, 9 x 9 included, and was about 1.4x faster
// on vgg3.)

/// Outputs per side of a Winograd F(4x4, 3x3) tile.
let winogradOutputSize = 4
/// Input patch side of a tile, `4 + 2`.
let winogradInputSize = 6
/// Transform-domain elements (GEMMs) per tile, `6 * 6`.
let winogradElements = 36

/// The two data transforms of a Winograd convolution.
enum WinogradStage: Sendable {
    /// `B^T d B`, input patch to transform domain.
    case input
    /// `A^T m A`, transform-domain products to output tile.
    case output
}

extension ConvKernels {
    /// The fewest input and output channels for which the Winograd path is used: with fewer, the
    /// GEMMs are too thin to beat one im2col GEMM (the first layers of the seed models, with 1
    /// or 3 input channels, stay on im2col).
    static let winogradMinimumChannels = 16
    /// Target size in bytes of one chunk's transformed input and products (V and M).
    static let winogradChunkBytes = 2 << 20

    /// Whether a convolution with this geometry runs as Winograd: a 3x3 kernel at stride 1 and
    /// dilation 1, a non-empty output, and at least ``winogradMinimumChannels`` input and output channels.
    static func winogradApplies(_ g: Conv2DGeometry, outChannels: Int) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideHeight == 1 && g.strideWidth == 1
            && g.dilationHeight == 1 && g.dilationWidth == 1
            && g.batch > 0 && g.outputPositions > 0
            && g.inputChannels >= winogradMinimumChannels && outChannels >= winogradMinimumChannels
    }

    /// Forward convolution by Winograd of `x` with `f` (`[3, 3, Cin, outChannels]`) into `out`
    /// (every element written), followed by the epilogue `+ bias` (`outChannels` values, optional)
    /// and ReLU (when `applyingReLU`) inside the output transform. Float runs the fused, parallel C
    /// kernel (``winogradForwardFloat(_:_:_:outChannels:bias:applyingReLU:into:blockTiles:parts:)``),
    /// Double the Swift code below. `chunkTiles` overrides the tiles per chunk or block and `parts`
    /// the number of tile ranges the C kernel splits the work into (tests).
    static func winogradForward<T: WinogradScalar>(
        _ x: UnsafePointer<T>, _ f: UnsafePointer<T>, _ g: Conv2DGeometry, outChannels cout: Int,
        bias: UnsafePointer<T>?, applyingReLU: Bool, into out: UnsafeMutablePointer<T>,
        chunkTiles: Int? = nil, parts: Int? = nil
    ) {
        if T.self == Float.self {
            winogradForwardFloat(x.cast(), f.cast(), g, outChannels: cout, bias: bias?.cast(), applyingReLU: applyingReLU,
                                 into: out.cast(), blockTiles: chunkTiles, parts: parts)
            return
        }
        let cin = g.inputChannels
        withScratchBuffer(count: winogradElements * cin * cout + cout) { (u: UnsafeMutablePointer<T>) in
            winogradTransformFilter(f, cin: cin, cout: cout, rotated: false, into: u)
            // The bias, or zeros when there is none but ReLU applies.
            let biasRow = u + winogradElements * cin * cout
            if let bias {
                biasRow.update(from: bias, count: cout)
            } else {
                zeroFill(biasRow, count: cout)
            }
            winogradConvolve(
                input: x, batch: g.batch, height: g.inputHeight, width: g.inputWidth,
                inChannels: cin, padTop: g.padTop, padLeft: g.padLeft, filter: u, outChannels: cout,
                outputHeight: g.outputHeight, outputWidth: g.outputWidth, output: out,
                epilogue: bias != nil || applyingReLU ? (UnsafePointer(biasRow), applyingReLU) : nil,
                chunkTiles: chunkTiles)
        }
    }

    /// The input gradient by Winograd: the output gradient `dy` (`[N, OH, OW, outChannels]`)
    /// convolved with the rotated, channel-swapped kernel, padded by `2 - pad` above and left, into
    /// `dx` (`[N, H, W, Cin]`, every element written); Float in C, as for
    /// ``winogradForward(_:_:_:outChannels:bias:applyingReLU:into:chunkTiles:parts:)``.
    static func winogradBackwardInput<T: WinogradScalar>(
        _ dy: UnsafePointer<T>, _ f: UnsafePointer<T>, _ g: Conv2DGeometry, outChannels cout: Int,
        into dx: UnsafeMutablePointer<T>, chunkTiles: Int? = nil, parts: Int? = nil
    ) {
        if T.self == Float.self {
            winogradBackwardInputFloat(dy.cast(), f.cast(), g, outChannels: cout, into: dx.cast(),
                                       blockTiles: chunkTiles, parts: parts)
            return
        }
        let cin = g.inputChannels
        withScratchBuffer(count: winogradElements * cin * cout) { (u: UnsafeMutablePointer<T>) in
            winogradTransformFilter(f, cin: cin, cout: cout, rotated: true, into: u)
            winogradConvolve(
                input: dy, batch: g.batch, height: g.outputHeight, width: g.outputWidth,
                inChannels: cout, padTop: 2 - g.padTop, padLeft: 2 - g.padLeft, filter: u, outChannels: cin,
                outputHeight: g.inputHeight, outputWidth: g.inputWidth, output: dx,
                epilogue: nil, chunkTiles: chunkTiles)
        }
    }

    /// Writes `U = G g G^T` for every channel pair of the HWIO filter `f` (`[3, 3, cin, cout]`):
    /// `[E, cin, cout]`, or with `rotated` the transform of the 180-degree-rotated kernel with
    /// its channel axes swapped, `[E, cout, cin]` (for the input gradient).
    static func winogradTransformFilter<T: WinogradScalar>(
        _ f: UnsafePointer<T>, cin: Int, cout: Int, rotated: Bool, into u: UnsafeMutablePointer<T>
    ) {
        let plane = cin * cout, n = winogradInputSize
        withScratchBuffer(count: 3 * n) { (rows: UnsafeMutablePointer<T>) in
            for ci in 0..<cin {
                for co in 0..<cout {
                    let offset = ci * cout + co
                    // g[a][b], rotated by 180 degrees when asked.
                    @inline(__always) func tap(_ a: Int, _ b: Int) -> T {
                        rotated ? f[((2 - a) * 3 + (2 - b)) * plane + offset] : f[(a * 3 + b) * plane + offset]
                    }
                    // G g: column b of g gives column b of the n x 3 product, stored rows[r * 3 + b].
                    for b in 0..<3 {
                        winogradFilterTransform(tap(0, b), tap(1, b), tap(2, b)) { r, value in rows[r * 3 + b] = value }
                    }
                    // (G g) G^T: row r of the product gives row r of U.
                    let destination = rotated ? co * cin + ci : offset
                    for r in 0..<n {
                        winogradFilterTransform(rows[r * 3], rows[r * 3 + 1], rows[r * 3 + 2]) { s, value in
                            u[(r * n + s) * plane + destination] = value
                        }
                    }
                }
            }
        }
    }

    /// `G x` for one column of 3 kernel taps, passed to `store(row, value)`.
    @inline(__always)
    static func winogradFilterTransform<T: WinogradScalar>(_ x0: T, _ x1: T, _ x2: T, store: (Int, T) -> Void) {
        store(0, x0 / 4)
        store(1, -(x0 + x1 + x2) / 6)
        store(2, -(x0 - x1 + x2) / 6)
        store(3, x0 / 24 + x1 / 12 + x2 / 6)
        store(4, x0 / 24 - x1 / 12 + x2 / 6)
        store(5, x2)
    }

    /// The tiles per chunk: V and M (E rows of `inChannels + outChannels` per tile) within
    /// ``winogradChunkBytes``, at least 1 and at most all tiles.
    static func winogradTilesPerChunk<T>(_ type: T.Type, tiles: Int, inChannels: Int, outChannels: Int) -> Int {
        let perTile = winogradElements * (inChannels + outChannels) * MemoryLayout<T>.stride
        return Swift.max(1, Swift.min(tiles, winogradChunkBytes / Swift.max(perTile, 1)))
    }

    /// The correlation of the NHWC `input` (`[batch, height, width, inChannels]`, zero outside, the
    /// first output reading row `-padTop` and column `-padLeft`) with the 3x3 kernel whose
    /// transform is `filter` (`[E, inChannels, outChannels]`), into `output`
    /// (`[batch, outputHeight, outputWidth, outChannels]`, every element written), adding
    /// `epilogue.bias` (`outChannels` values) and applying ReLU when `epilogue.relu`.
    static func winogradConvolve<T: WinogradScalar>(
        input: UnsafePointer<T>, batch: Int, height: Int, width: Int, inChannels cin: Int,
        padTop: Int, padLeft: Int, filter u: UnsafePointer<T>, outChannels cout: Int,
        outputHeight: Int, outputWidth: Int, output: UnsafeMutablePointer<T>,
        epilogue: (bias: UnsafePointer<T>, relu: Bool)?, chunkTiles: Int?
    ) {
        let size = winogradOutputSize, patchSize = winogradInputSize, elements = winogradElements
        let tilesHigh = (outputHeight + size - 1) / size, tilesWide = (outputWidth + size - 1) / size
        let tilesPerImage = tilesHigh * tilesWide, total = batch * tilesPerImage
        guard total > 0, cin > 0, cout > 0 else { return }
        let chunk = Swift.max(1, Swift.min(total, chunkTiles ?? winogradTilesPerChunk(
            T.self, tiles: total, inChannels: cin, outChannels: cout)))
        // V and M, a zero row standing in for input outside the image, and a sink row for
        // outputs past the bottom or right edge.
        withScratchBuffer(count: chunk * elements * (cin + cout) + cin + cout) { (scratch: UnsafeMutablePointer<T>) in
            let v = scratch, m = scratch + chunk * elements * cin
            let zeros = m + chunk * elements * cout, sink = zeros + cin
            zeroFill(zeros, count: cin)
            // The input rows of the current patch and the output rows of the current tile.
            withPointerTables(elements, size * size) { (patch: UnsafeMutablePointer<UnsafePointer<T>>,
                                                        corners: UnsafeMutablePointer<UnsafeMutablePointer<T>>) in
                var start = 0
                while start < total {
                    let count = Swift.min(chunk, total - start)
                    // Input transform V = B^T d B, per tile.
                    for t in 0..<count {
                        let index = start + t
                        let n = index / tilesPerImage, ti = (index % tilesPerImage) / tilesWide, tj = index % tilesWide
                        let y0 = size * ti - padTop, x0 = size * tj - padLeft
                        for r in 0..<patchSize {
                            for c in 0..<patchSize {
                                let y = y0 + r, x = x0 + c
                                patch[r * patchSize + c] = y >= 0 && y < height && x >= 0 && x < width
                                    ? input + ((n * height + y) * width + x) * cin : UnsafePointer(zeros)
                            }
                        }
                        winogradInputTile(patch, channels: cin, into: v + t * elements * cin)
                    }
                    // M_e = V_e * U_e, one GEMM per transform-domain element.
                    for e in 0..<elements {
                        T.gemm(transposeA: false, transposeB: false, m: count, n: cout, k: cin,
                               alpha: 1, a: v + e * cin, lda: elements * cin, b: u + e * cin * cout, ldb: cout,
                               beta: 0, c: m + e * cout, ldc: elements * cout)
                    }
                    // Output transform Y = A^T M A, per tile.
                    for t in 0..<count {
                        let index = start + t
                        let n = index / tilesPerImage, ti = (index % tilesPerImage) / tilesWide, tj = index % tilesWide
                        let i0 = size * ti, j0 = size * tj
                        for i in 0..<size {
                            for j in 0..<size {
                                corners[i * size + j] = i0 + i < outputHeight && j0 + j < outputWidth
                                    ? output + ((n * outputHeight + i0 + i) * outputWidth + j0 + j) * cout : sink
                            }
                        }
                        if let epilogue {
                            winogradOutputTile(m + t * elements * cout, channels: cout, into: corners,
                                               count: size * size, bias: epilogue.bias, relu: epilogue.relu)
                        } else {
                            winogradOutputTile(m + t * elements * cout, channels: cout, into: corners)
                        }
                    }
                    start += count
                }
            }
        }
    }

    /// Calls `body` with two scratch tables of pointers, of `first` and `second` entries (their
    /// memory from ``withScratchBuffer(count:_:)``, as `Double`s rebound to pointers: the same
    /// size and alignment).
    @inline(__always)
    static func withPointerTables<A, B>(
        _ first: Int, _ second: Int,
        _ body: (UnsafeMutablePointer<UnsafePointer<A>>, UnsafeMutablePointer<UnsafeMutablePointer<B>>) -> Void
    ) {
        withScratchBuffer(count: first + second) { (words: UnsafeMutablePointer<Double>) in
            words.withMemoryRebound(to: UnsafePointer<A>.self, capacity: first) { a in
                (words + first).withMemoryRebound(to: UnsafeMutablePointer<B>.self, capacity: second) { b in
                    body(a, b)
                }
            }
        }
    }

    /// `B^T d B` for one patch whose element `(r, s)` is the row of `channels` values at
    /// `patch[r * 6 + s]`, written as 36 rows of `channels` to `v` (row `r * 6 + s`).
    @inline(__always)
    static func winogradInputTile<T: WinogradScalar>(
        _ patch: UnsafePointer<UnsafePointer<T>>, channels c: Int, into v: UnsafeMutablePointer<T>
    ) {
        winogradTransformRows(.input, channels: c, source: { patch[$0] }, destination: { v + $0 &* c })
    }

    /// `A^T m A` for one tile's 36 rows of `channels` products at `m`, written to the output rows
    /// `corners[i * 4 + j]`.
    @inline(__always)
    static func winogradOutputTile<T: WinogradScalar>(
        _ m: UnsafePointer<T>, channels c: Int, into corners: UnsafePointer<UnsafeMutablePointer<T>>
    ) {
        winogradTransformRows(.output, channels: c, source: { m + $0 &* c }, destination: { corners[$0] })
    }

    /// Applies the `stage` transform to rows of `channels` values, channel by channel: element `k`
    /// of the transform's input is row `source(k)`, element `e` of its result goes to row
    /// `destination(e)`. Eight channels at a time as `SIMD8` lanes, the rest one by one.
    @inline(__always)
    static func winogradTransformRows<T: WinogradScalar>(
        _ stage: WinogradStage, channels c: Int,
        source: (Int) -> UnsafePointer<T>, destination: (Int) -> UnsafeMutablePointer<T>
    ) {
        var ch = 0
        while ch &+ 8 <= c {
            winogradTransform(
                stage, load: { UnsafeRawPointer(source($0) + ch).loadUnaligned(as: SIMD8<T>.self) },
                store: { UnsafeMutableRawPointer(destination($0) + ch).storeBytes(of: $1, as: SIMD8<T>.self) })
            ch &+= 8
        }
        while ch < c {
            winogradTransform(stage, load: { source($0)[ch] }, store: { destination($0)[ch] = $1 })
            ch &+= 1
        }
    }

    /// The `stage` transform on one lane.
    @inline(__always)
    static func winogradTransform<L: WinogradLane>(_ stage: WinogradStage, load: (Int) -> L, store: (Int, L) -> Void) {
        switch stage {
        case .input: winogradInputTransform4(load: load, store: store)
        case .output: winogradOutputTransform4(load: load, store: store)
        }
    }

    /// ``winogradOutputTile(_:channels:into:)`` followed by `+ bias` (`channels` values)
    /// and, when `relu`, `max(_, 0)` on each of the `count` output rows while they are in cache.
    @inline(__always)
    static func winogradOutputTile<T: WinogradScalar>(
        _ m: UnsafePointer<T>, channels c: Int, into corners: UnsafePointer<UnsafeMutablePointer<T>>,
        count: Int, bias: UnsafePointer<T>, relu: Bool
    ) {
        winogradOutputTile(m, channels: c, into: corners)
        for q in 0..<count {
            winogradEpilogue(corners[q], bias, channels: c, relu: relu)
        }
    }

    /// `row[ch] = row[ch] + bias[ch]`, then `max(_, 0)` when `relu`. Written with `Swift.max` and
    /// kept out of line: as `v > 0 ? v : 0` inlined in the tile loop the compiler emitted a scalar
    /// branch per element (most of the epilogue's time on random signs, measured with perf);
    /// this form vectorizes. (A NaN stays NaN here, where `addBias` maps it to 0.)
    @inline(never)
    static func winogradEpilogue<T: WinogradScalar>(
        _ row: UnsafeMutablePointer<T>, _ bias: UnsafePointer<T>, channels c: Int, relu: Bool
    ) {
        if relu {
            for ch in 0..<c { row[ch] = Swift.max(row[ch] + bias[ch], 0) }
        } else {
            for ch in 0..<c { row[ch] += bias[ch] }
        }
    }

    // MARK: Transforms

    /// `B^T x` for F(4, 3), rows `(4, 0, -5, 0, 1, 0)`, `(0, -4, -4, 1, 1, 0)`, `(0, 4, -4, -1, 1, 0)`,
    /// `(0, -2, -1, 2, 1, 0)`, `(0, 2, -1, -2, 1, 0)`, `(0, 4, 0, -5, 0, 1)`.
    @inline(__always)
    static func winogradB4<L: WinogradLane>(_ x: (L, L, L, L, L, L)) -> (L, L, L, L, L, L) {
        let four = L.constant(4), five = L.constant(5), two = L.constant(2)
        let t1 = x.4 - four * x.2, t2 = x.3 - four * x.1
        let t3 = x.4 - x.2, t4 = two * (x.3 - x.1)
        return (four * x.0 - five * x.2 + x.4, t1 + t2, t1 - t2, t3 + t4, t3 - t4, four * x.1 - five * x.3 + x.5)
    }

    /// `B^T d B` for F(4x4, 3x3) on one lane: `load(r * 6 + s)` gives `d[r][s]`, `store(e, value)`
    /// takes element `e = r * 6 + s`.
    @inline(__always)
    static func winogradInputTransform4<L: WinogradLane>(load: (Int) -> L, store: (Int, L) -> Void) {
        @inline(__always) func row(_ r: Int) -> (L, L, L, L, L, L) {
            let b = 6 * r
            return winogradB4((load(b), load(b + 1), load(b + 2), load(b + 3), load(b + 4), load(b + 5)))
        }
        let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3), r4 = row(4), r5 = row(5)
        @inline(__always) func column(_ s: Int, _ x: (L, L, L, L, L, L)) {
            let y = winogradB4(x)
            store(s, y.0); store(6 + s, y.1); store(12 + s, y.2); store(18 + s, y.3); store(24 + s, y.4); store(30 + s, y.5)
        }
        column(0, (r0.0, r1.0, r2.0, r3.0, r4.0, r5.0))
        column(1, (r0.1, r1.1, r2.1, r3.1, r4.1, r5.1))
        column(2, (r0.2, r1.2, r2.2, r3.2, r4.2, r5.2))
        column(3, (r0.3, r1.3, r2.3, r3.3, r4.3, r5.3))
        column(4, (r0.4, r1.4, r2.4, r3.4, r4.4, r5.4))
        column(5, (r0.5, r1.5, r2.5, r3.5, r4.5, r5.5))
    }

    /// `A^T x` for F(4, 3), rows `(1, 1, 1, 1, 1, 0)`, `(0, 1, -1, 2, -2, 0)`, `(0, 1, 1, 4, 4, 0)`,
    /// `(0, 1, -1, 8, -8, 1)`.
    @inline(__always)
    static func winogradA4<L: WinogradLane>(_ x: (L, L, L, L, L, L)) -> (L, L, L, L) {
        let two = L.constant(2), four = L.constant(4), eight = L.constant(8)
        let s12 = x.1 + x.2, d12 = x.1 - x.2, s34 = x.3 + x.4, d34 = x.3 - x.4
        return (x.0 + s12 + s34, d12 + two * d34, s12 + four * s34, d12 + eight * d34 + x.5)
    }

    /// `A^T m A` for F(4x4, 3x3) on one lane: `load(e)` gives `m[e / 6][e % 6]`, `store(q, value)`
    /// takes output `(q / 4, q % 4)` of the tile.
    @inline(__always)
    static func winogradOutputTransform4<L: WinogradLane>(load: (Int) -> L, store: (Int, L) -> Void) {
        @inline(__always) func column(_ s: Int) -> (L, L, L, L) {
            winogradA4((load(s), load(6 + s), load(12 + s), load(18 + s), load(24 + s), load(30 + s)))
        }
        let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3), c4 = column(4), c5 = column(5)
        @inline(__always) func row(_ i: Int, _ x: (L, L, L, L, L, L)) {
            let y = winogradA4(x)
            store(4 * i, y.0); store(4 * i + 1, y.1); store(4 * i + 2, y.2); store(4 * i + 3, y.3)
        }
        row(0, (c0.0, c1.0, c2.0, c3.0, c4.0, c5.0))
        row(1, (c0.1, c1.1, c2.1, c3.1, c4.1, c5.1))
        row(2, (c0.2, c1.2, c2.2, c3.2, c4.2, c5.2))
        row(3, (c0.3, c1.3, c2.3, c3.3, c4.3, c5.3))
    }
}

/// A value the Winograd transforms add, subtract and scale: a scalar or a SIMD vector of them.
protocol WinogradLane {
    static func + (lhs: Self, rhs: Self) -> Self
    static func - (lhs: Self, rhs: Self) -> Self
    static func * (lhs: Self, rhs: Self) -> Self
    /// `value` in every lane.
    static func constant(_ value: Double) -> Self
}

extension Float: WinogradLane {
    static func constant(_ value: Double) -> Float { Float(value) }
}

extension Double: WinogradLane {
    static func constant(_ value: Double) -> Double { value }
}

extension SIMD8: WinogradLane where Scalar: BinaryFloatingPoint {
    static func constant(_ value: Double) -> SIMD8 { SIMD8(repeating: Scalar(value)) }
}

/// The element types the Winograd kernels run on (Float and Double): their transforms run on
/// `SIMD8` vectors of channels.
protocol WinogradScalar: TensorScalar, SIMDScalar, WinogradLane {}

extension Float: WinogradScalar {}
extension Double: WinogradScalar {}

// MARK: Float F(4x4, 3x3) in C

extension ConvKernels {
    /// The fewest tiles a thread of the C kernels gets: below twice this, one thread does all.
    static let winogradMinimumTilesPerThread = 8

    /// The number of tile ranges the C kernels split `tiles` into: one per thread, each of at
    /// least ``winogradMinimumTilesPerThread`` tiles.
    static func winogradParts(tiles: Int) -> Int {
        Swift.max(1, Swift.min(Parallel.threads, tiles / winogradMinimumTilesPerThread))
    }

    /// Input channels per thread for the filter transforms with `outChannels` outputs: at least
    /// 4096 channel pairs each.
    static func winogradChannelsPerThread(_ outChannels: Int) -> Int {
        Swift.max(1, 4096 / Swift.max(outChannels, 1))
    }

    /// The C kernels' description of the forward convolution `g` with `outChannels` outputs.
    static func winogradShape(_ g: Conv2DGeometry, outChannels: Int) -> ck_winograd_shape {
        ck_winograd_shape(
            batch: g.batch, height: g.inputHeight, width: g.inputWidth, in_channels: g.inputChannels,
            pad_top: g.padTop, pad_left: g.padLeft, out_height: g.outputHeight, out_width: g.outputWidth,
            out_channels: outChannels)
    }

    /// Runs `body` with `count` uninitialized Floats aligned to 64 bytes (the C kernels' vectors),
    /// from ``withScratchBuffer(count:_:)`` with room to round the address up.
    @inline(__always)
    static func withAlignedFloats<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        withScratchBuffer(count: count + 15) { (raw: UnsafeMutablePointer<Float>) in
            let address = (Int(bitPattern: raw) + 63) & ~63
            return body(raw + (address - Int(bitPattern: raw)) / MemoryLayout<Float>.stride)
        }
    }

    /// Runs `body` with the packed transform of the HWIO filter `f` (`[3, 3, fi, fo]`) for the
    /// convolution `fi -> fo`, or with `rotated` for `fo -> fi` with the kernel rotated by 180 degrees.
    static func withPackedWinogradFilter<R>(
        _ f: UnsafePointer<Float>, fi: Int, fo: Int, rotated: Bool, _ body: (UnsafePointer<Float>) -> R
    ) -> R {
        let (cin, cout) = rotated ? (fo, fi) : (fi, fo)
        return withAlignedFloats(ck_winograd_f4_filter_size(cin, cout)) { packed in
            Parallel.forEachRange(cin, minimumPerThread: winogradChannelsPerThread(cout), WinogradPackFilterLoop(
                source: UncheckedSendable(f), destination: UncheckedSendable(packed), fi: fi, fo: fo, rotated: rotated))
            return body(UnsafePointer(packed))
        }
    }

    /// ``winogradForward(_:_:_:outChannels:bias:applyingReLU:into:chunkTiles:parts:)`` for Float:
    /// the C kernel on `parts` contiguous tile ranges in parallel (by default ``winogradParts(tiles:)``),
    /// `blockTiles` tiles at a time (by default the kernel's choice). Every output position belongs
    /// to exactly one tile, so every element of `out` is written.
    static func winogradForwardFloat(
        _ x: UnsafePointer<Float>, _ f: UnsafePointer<Float>, _ g: Conv2DGeometry, outChannels cout: Int,
        bias: UnsafePointer<Float>?, applyingReLU: Bool, into out: UnsafeMutablePointer<Float>,
        blockTiles: Int? = nil, parts: Int? = nil
    ) {
        withPackedWinogradFilter(f, fi: g.inputChannels, fo: cout, rotated: false) { packed in
            winogradConvolve(
                input: x, packed: packed, bias: bias, relu: applyingReLU, output: out,
                shape: winogradShape(g, outChannels: cout), blockTiles: blockTiles, parts: parts)
        }
    }

    /// ``winogradBackwardInput(_:_:_:outChannels:into:chunkTiles:parts:)`` for Float: the
    /// forward C kernel on the output gradient with the rotated, channel-swapped kernel.
    static func winogradBackwardInputFloat(
        _ dy: UnsafePointer<Float>, _ f: UnsafePointer<Float>, _ g: Conv2DGeometry, outChannels cout: Int,
        into dx: UnsafeMutablePointer<Float>, blockTiles: Int? = nil, parts: Int? = nil
    ) {
        let cin = g.inputChannels
        let shape = ck_winograd_shape(
            batch: g.batch, height: g.outputHeight, width: g.outputWidth, in_channels: cout,
            pad_top: 2 - g.padTop, pad_left: 2 - g.padLeft, out_height: g.inputHeight, out_width: g.inputWidth,
            out_channels: cin)
        withPackedWinogradFilter(f, fi: cin, fo: cout, rotated: true) { packed in
            winogradConvolve(input: dy, packed: packed, bias: nil, relu: false, output: dx,
                             shape: shape, blockTiles: blockTiles, parts: parts)
        }
    }

    /// Every output tile of the convolution `shape` by the C kernel, on `parts` tile ranges in parallel.
    static func winogradConvolve(
        input: UnsafePointer<Float>, packed: UnsafePointer<Float>, bias: UnsafePointer<Float>?, relu: Bool,
        output: UnsafeMutablePointer<Float>, shape: ck_winograd_shape, blockTiles: Int?, parts: Int?
    ) {
        var shape = shape
        let tiles = ck_winograd_f4_tiles(&shape)
        guard tiles > 0, shape.in_channels > 0, shape.out_channels > 0 else { return }
        let block = Swift.max(1, blockTiles ?? ck_winograd_f4_block_tiles(&shape))
        let workspace = ck_winograd_f4_forward_workspace(&shape, block)
        let count = Swift.max(1, parts ?? winogradParts(tiles: tiles))
        Parallel.forEachPart(count, WinogradForwardParts(
            input: UncheckedSendable(input), packed: UncheckedSendable(packed), bias: UncheckedSendable(bias),
            output: UncheckedSendable(output), relu: relu, shape: shape, tiles: tiles, parts: count, block: block,
            workspace: workspace))
    }

    /// The filter gradient of a Winograd-eligible Float convolution: `dy` (`[N, OH, OW, outChannels]`)
    /// and the input `x` into `df` (`[3, 3, Cin, outChannels]`, every element written): per tile
    /// the transformed input times the transformed output gradient, summed in the transform domain
    /// over `parts` tile ranges in parallel (each range into its own partial sum, the partial sums
    /// added in part order), then taken back with `G^T dU G`.
    static func winogradBackwardFilterFloat(
        _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ g: Conv2DGeometry, outChannels cout: Int,
        into df: UnsafeMutablePointer<Float>, blockTiles: Int? = nil, parts: Int? = nil
    ) {
        let cin = g.inputChannels
        var shape = winogradShape(g, outChannels: cout)
        let tiles = ck_winograd_f4_tiles(&shape)
        guard tiles > 0, cin > 0, cout > 0 else {
            zeroFill(df, count: 9 * cin * cout)
            return
        }
        let block = Swift.max(1, blockTiles ?? ck_winograd_f4_gradient_block_tiles(&shape))
        let workspace = ck_winograd_f4_gradient_workspace(&shape, block)
        let size = ck_winograd_f4_gradient_size(cin, cout)
        let count = Swift.max(1, parts ?? winogradParts(tiles: tiles))
        withAlignedFloats(count * size) { partials in
            Parallel.forEachPart(count, WinogradFilterGradientParts(
                x: UncheckedSendable(x), dy: UncheckedSendable(dy), partials: UncheckedSendable(partials),
                shape: shape, tiles: tiles, parts: count, block: block, workspace: workspace, size: size))
            // The partial sums added in part order and taken back, input channels split across threads.
            Parallel.forEachRange(cin, minimumPerThread: winogradChannelsPerThread(cout), WinogradGradientFinishLoop(
                partials: UncheckedSendable(UnsafePointer(partials)), df: UncheckedSendable(df), parts: count,
                cin: cin, cout: cout))
        }
    }
}

/// The loop body of ``ConvKernels/withPackedWinogradFilter(_:fi:fo:rotated:_:)``: packs the
/// filter transform of a range of input channels.
private struct WinogradPackFilterLoop: ParallelLoopBody {
    let source: UncheckedSendable<UnsafePointer<Float>>
    let destination: UncheckedSendable<UnsafeMutablePointer<Float>>
    let fi, fo: Int
    let rotated: Bool

    func callAsFunction(_ range: Range<Int>) {
        ck_winograd_f4_pack_filter(source.value, fi, fo, rotated ? 1 : 0, range.lowerBound, range.count, destination.value)
    }
}

/// The loop body of ``ConvKernels/winogradConvolve(input:packed:bias:relu:output:shape:blockTiles:parts:)``:
/// the C kernel on part `part`'s range of tiles, with its own workspace.
private struct WinogradForwardParts: ParallelPartBody {
    let input, packed: UncheckedSendable<UnsafePointer<Float>>
    let bias: UncheckedSendable<UnsafePointer<Float>?>
    let output: UncheckedSendable<UnsafeMutablePointer<Float>>
    let relu: Bool
    let shape: ck_winograd_shape
    let tiles, parts, block, workspace: Int

    func callAsFunction(_ part: Int) {
        let range = Parallel.range(part, of: parts, count: tiles)
        guard !range.isEmpty else { return }
        ConvKernels.withAlignedFloats(workspace) { scratch in
            var s = shape
            ck_winograd_f4_forward_part(input.value, packed.value, bias.value, relu ? 1 : 0, output.value, &s,
                                        range.lowerBound, range.count, block, scratch)
        }
    }
}

/// The loop body of ``ConvKernels/winogradBackwardFilterFloat(_:_:_:outChannels:into:blockTiles:parts:)``:
/// part `part`'s range of tiles into its own partial sum (`size` Floats), with its own workspace.
private struct WinogradFilterGradientParts: ParallelPartBody {
    let x, dy: UncheckedSendable<UnsafePointer<Float>>
    let partials: UncheckedSendable<UnsafeMutablePointer<Float>>
    let shape: ck_winograd_shape
    let tiles, parts, block, workspace, size: Int

    func callAsFunction(_ part: Int) {
        let partial = partials.value + part * size
        let range = Parallel.range(part, of: parts, count: tiles)
        guard !range.isEmpty else {
            zeroFill(partial, count: size)
            return
        }
        ConvKernels.withAlignedFloats(workspace) { scratch in
            var s = shape
            // The part's first block writes its partial sum, the others add to it.
            ck_winograd_f4_filter_gradient_part(x.value, dy.value, &s, range.lowerBound, range.count,
                                                block, 1, partial, scratch)
        }
    }
}

/// The loop body that finishes ``ConvKernels/winogradBackwardFilterFloat(_:_:_:outChannels:into:blockTiles:parts:)``:
/// the partial sums of a range of input channels added in part order and taken back.
private struct WinogradGradientFinishLoop: ParallelLoopBody {
    let partials: UncheckedSendable<UnsafePointer<Float>>
    let df: UncheckedSendable<UnsafeMutablePointer<Float>>
    let parts, cin, cout: Int

    func callAsFunction(_ range: Range<Int>) {
        ck_winograd_f4_gradient_finish(partials.value, parts, cin, cout, range.lowerBound, range.count, df.value)
    }
}
