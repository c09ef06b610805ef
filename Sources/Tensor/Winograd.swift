// Winograd F(2x2, 3x3) convolution for 3x3 kernels at stride 1 and dilation 1 (valid or same
// padding): the forward pass and the gradient with respect to the input.
//
// Each 2x2 block of outputs (a "tile") is computed from the 4x4 input patch around it as
// `A^T [(G g G^T) .* (B^T d B)] A`: 16 multiplications per input-output channel pair instead of 36.
// Over all channels the elementwise products become 16 matrix products, one per transform-domain
// element e: `M_e [tiles, Cout] = V_e [tiles, Cin] * U_e [Cin, Cout]`, each one BLAS ?gemm call.
// Tiles are processed in chunks of about 2 MiB of transformed data (V and M), like the im2col
// path, so the buffers stay in cache between the transforms and the GEMMs.
//
// Layouts: V holds each tile's 16 transformed rows of Cin contiguously (`[tiles, 16, Cin]`), so the
// input transform writes one contiguous run per tile and GEMM e reads every 16th row
// (`lda = 16 * Cin`); M is `[tiles, 16, Cout]` likewise. U is `[16, Cin, Cout]`.
//
// The gradient with respect to the input of a stride-1 3x3 convolution is a convolution of the
// output gradient with the kernel rotated by 180 degrees and its channel axes swapped, padded by
// `2 - pad` before, so it runs through the same code with a differently transformed filter.

extension ConvKernels {
    /// The fewest input and output channels for which the Winograd path is used: with fewer, the
    /// 16 GEMMs are too thin to beat one im2col GEMM (the first layers of the seed models, with 1
    /// or 3 input channels, stay on im2col).
    static let winogradMinimumChannels = 16
    /// Target size in bytes of one chunk's transformed input and products (V and M).
    static let winogradChunkBytes = 2 << 20

    /// Whether a convolution with this geometry runs as Winograd F(2x2, 3x3): a 3x3 kernel at
    /// stride 1 and dilation 1, a non-empty output, and at least ``winogradMinimumChannels`` input and
    /// output channels.
    static func winogradApplies(_ g: Conv2DGeometry, outChannels: Int) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideHeight == 1 && g.strideWidth == 1
            && g.dilationHeight == 1 && g.dilationWidth == 1
            && g.batch > 0 && g.outputPositions > 0
            && g.inputChannels >= winogradMinimumChannels && outChannels >= winogradMinimumChannels
    }

    /// Forward convolution by Winograd F(2x2, 3x3); `chunkTiles` overrides the tiles per chunk (tests).
    static func winogradForward<T: WinogradScalar>(
        _ input: Tensor<T>, _ filter: Tensor<T>, _ g: Conv2DGeometry, chunkTiles: Int? = nil
    ) -> Tensor<T> {
        let cin = g.inputChannels, cout = filter.shape[3]
        // Every output position belongs to exactly one tile, so the storage starts uninitialized.
        return Tensor<T>.buildUninitialized(shape: g.outputShape(channels: cout)) { out in
            input.withUnsafeBufferPointer { xBuffer in
                filter.withUnsafeBufferPointer { fBuffer in
                    withScratchBuffer(count: 16 * cin * cout) { (u: UnsafeMutablePointer<T>) in
                        winogradTransformFilter(fBuffer.baseAddress!, cin: cin, cout: cout, rotated: false, into: u)
                        winogradConvolve(
                            input: xBuffer.baseAddress!, batch: g.batch, height: g.inputHeight, width: g.inputWidth,
                            inChannels: cin, padTop: g.padTop, padLeft: g.padLeft, filter: u, outChannels: cout,
                            outputHeight: g.outputHeight, outputWidth: g.outputWidth, output: out, chunkTiles: chunkTiles)
                    }
                }
            }
        }
    }

    /// The input gradient by Winograd F(2x2, 3x3): the output gradient convolved with the rotated,
    /// channel-swapped kernel, padded by `2 - pad` above and left.
    static func winogradBackwardInput<T: WinogradScalar>(
        _ gradient: Tensor<T>, _ filter: Tensor<T>, _ g: Conv2DGeometry, chunkTiles: Int? = nil
    ) -> Tensor<T> {
        let cin = g.inputChannels, cout = filter.shape[3]
        return Tensor<T>.buildUninitialized(shape: [g.batch, g.inputHeight, g.inputWidth, cin]) { dx in
            gradient.withUnsafeBufferPointer { gBuffer in
                filter.withUnsafeBufferPointer { fBuffer in
                    withScratchBuffer(count: 16 * cin * cout) { (u: UnsafeMutablePointer<T>) in
                        winogradTransformFilter(fBuffer.baseAddress!, cin: cin, cout: cout, rotated: true, into: u)
                        winogradConvolve(
                            input: gBuffer.baseAddress!, batch: g.batch, height: g.outputHeight, width: g.outputWidth,
                            inChannels: cout, padTop: 2 - g.padTop, padLeft: 2 - g.padLeft, filter: u, outChannels: cin,
                            outputHeight: g.inputHeight, outputWidth: g.inputWidth, output: dx, chunkTiles: chunkTiles)
                    }
                }
            }
        }
    }

    /// Writes `U = G g G^T` for every channel pair of the HWIO filter `f` (`[3, 3, cin, cout]`):
    /// `[16, cin, cout]`, or with `rotated` the transform of the 180-degree-rotated kernel with
    /// its channel axes swapped, `[16, cout, cin]` (for the input gradient).
    static func winogradTransformFilter<T: TensorScalar>(
        _ f: UnsafePointer<T>, cin: Int, cout: Int, rotated: Bool, into u: UnsafeMutablePointer<T>
    ) {
        let plane = cin * cout
        let half: T = 0.5
        for ci in 0..<cin {
            for co in 0..<cout {
                let offset = ci * cout + co
                // g[a][b], rotated by 180 degrees when asked.
                @inline(__always) func tap(_ a: Int, _ b: Int) -> T {
                    rotated ? f[((2 - a) * 3 + (2 - b)) * plane + offset] : f[(a * 3 + b) * plane + offset]
                }
                // G x for a column x of 3 taps.
                @inline(__always) func g3(_ x0: T, _ x1: T, _ x2: T) -> (T, T, T, T) {
                    (x0, half * (x0 + x1 + x2), half * (x0 - x1 + x2), x2)
                }
                // Columns of G g (4 x 3), then each of its rows times G^T.
                let c0 = g3(tap(0, 0), tap(1, 0), tap(2, 0))
                let c1 = g3(tap(0, 1), tap(1, 1), tap(2, 1))
                let c2 = g3(tap(0, 2), tap(1, 2), tap(2, 2))
                let rows = [g3(c0.0, c1.0, c2.0), g3(c0.1, c1.1, c2.1), g3(c0.2, c1.2, c2.2), g3(c0.3, c1.3, c2.3)]
                let destination = rotated ? co * cin + ci : offset
                for r in 0..<4 {
                    u[(r * 4 + 0) * plane + destination] = rows[r].0
                    u[(r * 4 + 1) * plane + destination] = rows[r].1
                    u[(r * 4 + 2) * plane + destination] = rows[r].2
                    u[(r * 4 + 3) * plane + destination] = rows[r].3
                }
            }
        }
    }

    /// The tiles per chunk: V and M (16 rows of `inChannels + outChannels` per tile) within
    /// ``winogradChunkBytes``, at least 1 and at most all tiles.
    static func winogradTilesPerChunk<T>(_ type: T.Type, tiles: Int, inChannels: Int, outChannels: Int) -> Int {
        let perTile = 16 * (inChannels + outChannels) * MemoryLayout<T>.stride
        return Swift.max(1, Swift.min(tiles, winogradChunkBytes / Swift.max(perTile, 1)))
    }

    /// The correlation of the NHWC `input` (`[batch, height, width, inChannels]`, zero outside, the
    /// first output reading row `-padTop` and column `-padLeft`) with the 3x3 kernel whose
    /// transform is `filter` (`[16, inChannels, outChannels]`), into `output`
    /// (`[batch, outputHeight, outputWidth, outChannels]`, every element written).
    static func winogradConvolve<T: WinogradScalar>(
        input: UnsafePointer<T>, batch: Int, height: Int, width: Int, inChannels cin: Int,
        padTop: Int, padLeft: Int, filter u: UnsafePointer<T>, outChannels cout: Int,
        outputHeight: Int, outputWidth: Int, output: UnsafeMutablePointer<T>, chunkTiles: Int?
    ) {
        let tilesHigh = (outputHeight + 1) / 2, tilesWide = (outputWidth + 1) / 2
        let tilesPerImage = tilesHigh * tilesWide, total = batch * tilesPerImage
        guard total > 0, cin > 0, cout > 0 else { return }
        let chunk = Swift.max(1, Swift.min(
            total, chunkTiles ?? winogradTilesPerChunk(T.self, tiles: total, inChannels: cin, outChannels: cout)))
        // V and M, a zero row standing in for input outside the image, and a sink row for
        // outputs past the bottom or right edge (odd output sizes).
        withScratchBuffer(count: chunk * 16 * (cin + cout) + cin + cout) { (scratch: UnsafeMutablePointer<T>) in
            let v = scratch, m = scratch + chunk * 16 * cin
            let zeros = m + chunk * 16 * cout, sink = zeros + cin
            zeroFill(zeros, count: cin)
            // The 16 input rows of the current patch and the 4 output rows of the current tile.
            let patch = UnsafeMutablePointer<UnsafePointer<T>>.allocate(capacity: 16)
            let corners = UnsafeMutablePointer<UnsafeMutablePointer<T>>.allocate(capacity: 4)
            defer { patch.deallocate(); corners.deallocate() }
            var start = 0
            while start < total {
                let count = Swift.min(chunk, total - start)
                // Input transform V = B^T d B, per tile.
                for t in 0..<count {
                    let tile = start + t
                    let n = tile / tilesPerImage, ti = (tile % tilesPerImage) / tilesWide, tj = tile % tilesWide
                    let y0 = 2 * ti - padTop, x0 = 2 * tj - padLeft
                    for r in 0..<4 {
                        for c in 0..<4 {
                            let y = y0 + r, x = x0 + c
                            patch[r * 4 + c] = y >= 0 && y < height && x >= 0 && x < width
                                ? input + ((n * height + y) * width + x) * cin : UnsafePointer(zeros)
                        }
                    }
                    winogradInputTile(patch, channels: cin, into: v + t * 16 * cin)
                }
                // M_e = V_e * U_e, one GEMM per transform-domain element.
                for e in 0..<16 {
                    T.gemm(transposeA: false, transposeB: false, m: count, n: cout, k: cin,
                           alpha: 1, a: v + e * cin, lda: 16 * cin, b: u + e * cin * cout, ldb: cout,
                           beta: 0, c: m + e * cout, ldc: 16 * cout)
                }
                // Output transform Y = A^T M A, per tile.
                for t in 0..<count {
                    let tile = start + t
                    let n = tile / tilesPerImage, ti = (tile % tilesPerImage) / tilesWide, tj = tile % tilesWide
                    let i0 = 2 * ti, j0 = 2 * tj
                    for q in 0..<4 {
                        let i = i0 + q / 2, j = j0 + q % 2
                        corners[q] = i < outputHeight && j < outputWidth
                            ? output + ((n * outputHeight + i) * outputWidth + j) * cout : sink
                    }
                    winogradOutputTile(m + t * 16 * cout, channels: cout, into: corners)
                }
                start += count
            }
        }
    }

    /// `B^T d B` for one 4x4 patch whose element `(r, s)` is the row of `channels` values at
    /// `patch[r * 4 + s]`, written as 16 rows of `channels` to `v` (row `r * 4 + s`), eight
    /// channels at a time.
    @inline(__always)
    static func winogradInputTile<T: WinogradScalar>(
        _ patch: UnsafePointer<UnsafePointer<T>>, channels c: Int, into v: UnsafeMutablePointer<T>
    ) {
        var ch = 0
        while ch &+ 8 <= c {
            winogradInputTransform(
                load: { k in UnsafeRawPointer(patch[k] + ch).loadUnaligned(as: SIMD8<T>.self) },
                store: { e, x in UnsafeMutableRawPointer(v + (e &* c &+ ch)).storeBytes(of: x, as: SIMD8<T>.self) })
            ch &+= 8
        }
        while ch < c {
            winogradInputTransform(load: { k in patch[k][ch] }, store: { e, x in v[e &* c &+ ch] = x })
            ch &+= 1
        }
    }

    /// `A^T m A` for one tile's 16 rows of `channels` products at `m`, written to the 2x2 output
    /// rows `corners[0 ..< 4]` (top-left, top-right, bottom-left, bottom-right), eight channels at a time.
    @inline(__always)
    static func winogradOutputTile<T: WinogradScalar>(
        _ m: UnsafePointer<T>, channels c: Int, into corners: UnsafePointer<UnsafeMutablePointer<T>>
    ) {
        var ch = 0
        while ch &+ 8 <= c {
            winogradOutputTransform(
                load: { e in UnsafeRawPointer(m + (e &* c &+ ch)).loadUnaligned(as: SIMD8<T>.self) },
                store: { q, y in UnsafeMutableRawPointer(corners[q] + ch).storeBytes(of: y, as: SIMD8<T>.self) })
            ch &+= 8
        }
        while ch < c {
            winogradOutputTransform(load: { e in m[e &* c &+ ch] }, store: { q, y in corners[q][ch] = y })
            ch &+= 1
        }
    }

    /// `B^T d B` on one lane: `load(r * 4 + s)` gives `d[r][s]`, `store(e, value)` takes element `e = r * 4 + s`.
    @inline(__always)
    static func winogradInputTransform<L: WinogradLane>(load: (Int) -> L, store: (Int, L) -> Void) {
        let d00 = load(0), d01 = load(1), d02 = load(2), d03 = load(3)
        let d10 = load(4), d11 = load(5), d12 = load(6), d13 = load(7)
        let d20 = load(8), d21 = load(9), d22 = load(10), d23 = load(11)
        let d30 = load(12), d31 = load(13), d32 = load(14), d33 = load(15)
        // B^T x = (x0 - x2, x1 + x2, x2 - x1, x1 - x3), along each row first.
        let a00 = d00 - d02, a01 = d01 + d02, a02 = d02 - d01, a03 = d01 - d03
        let a10 = d10 - d12, a11 = d11 + d12, a12 = d12 - d11, a13 = d11 - d13
        let a20 = d20 - d22, a21 = d21 + d22, a22 = d22 - d21, a23 = d21 - d23
        let a30 = d30 - d32, a31 = d31 + d32, a32 = d32 - d31, a33 = d31 - d33
        // Then down each column.
        store(0, a00 - a20); store(1, a01 - a21); store(2, a02 - a22); store(3, a03 - a23)
        store(4, a10 + a20); store(5, a11 + a21); store(6, a12 + a22); store(7, a13 + a23)
        store(8, a20 - a10); store(9, a21 - a11); store(10, a22 - a12); store(11, a23 - a13)
        store(12, a10 - a30); store(13, a11 - a31); store(14, a12 - a32); store(15, a13 - a33)
    }

    /// `A^T m A` on one lane: `load(e)` gives `m[e / 4][e % 4]`, `store(q, value)` takes output
    /// `(q / 2, q % 2)` of the 2x2 tile.
    @inline(__always)
    static func winogradOutputTransform<L: WinogradLane>(load: (Int) -> L, store: (Int, L) -> Void) {
        let m00 = load(0), m01 = load(1), m02 = load(2), m03 = load(3)
        let m10 = load(4), m11 = load(5), m12 = load(6), m13 = load(7)
        let m20 = load(8), m21 = load(9), m22 = load(10), m23 = load(11)
        let m30 = load(12), m31 = load(13), m32 = load(14), m33 = load(15)
        // A^T x = (x0 + x1 + x2, x1 - x2 - x3), down each column first.
        let r00 = m00 + m10 + m20, r01 = m01 + m11 + m21, r02 = m02 + m12 + m22, r03 = m03 + m13 + m23
        let r10 = m10 - m20 - m30, r11 = m11 - m21 - m31, r12 = m12 - m22 - m32, r13 = m13 - m23 - m33
        store(0, r00 + r01 + r02)
        store(1, r01 - r02 - r03)
        store(2, r10 + r11 + r12)
        store(3, r11 - r12 - r13)
    }
}

/// A value the Winograd transforms add and subtract: a scalar or a SIMD vector of them.
protocol WinogradLane {
    static func + (lhs: Self, rhs: Self) -> Self
    static func - (lhs: Self, rhs: Self) -> Self
}

extension Float: WinogradLane {}
extension Double: WinogradLane {}
extension SIMD8: WinogradLane where Scalar: FloatingPoint {}

/// The element types the Winograd kernels run on (Float and Double): their transforms run on
/// `SIMD8` vectors of channels.
protocol WinogradScalar: TensorScalar, SIMDScalar, WinogradLane {}

extension Float: WinogradScalar {}
extension Double: WinogradScalar {}
