// Winograd F(4x4, 3x3) convolution of Float NHWC tensors with 3x3 kernels at stride 1: the
// forward pass (with a fused bias + ReLU epilogue), which also computes the input gradient when
// given the rotated, channel-swapped kernel, and the filter gradient. The caller splits the tiles
// (4x4 output blocks, numbered image by image, row by row) across threads and calls a `_part`
// function per range; each tile's arithmetic does not depend on the split, so the forward result
// does not depend on the number of threads.
#ifndef CK_WINOGRAD_H
#define CK_WINOGRAD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The geometry of one Winograd convolution: the input `[batch, height, width, in_channels]`
/// (zero outside), the output `[batch, out_height, out_width, out_channels]`, whose element
/// `(i, j)` reads input rows `i - pad_top ... i - pad_top + 2` and columns likewise.
typedef struct ck_winograd_shape {
    ptrdiff_t batch;
    ptrdiff_t height;
    ptrdiff_t width;
    ptrdiff_t in_channels;
    ptrdiff_t pad_top;
    ptrdiff_t pad_left;
    ptrdiff_t out_height;
    ptrdiff_t out_width;
    ptrdiff_t out_channels;
} ck_winograd_shape;

/// The number of 4x4 output tiles, `batch * ceil(out_height / 4) * ceil(out_width / 4)`.
ptrdiff_t ck_winograd_f4_tiles(const ck_winograd_shape *shape);

/// Floats in the packed filter transform of a convolution with these channels.
ptrdiff_t ck_winograd_f4_filter_size(ptrdiff_t in_channels, ptrdiff_t out_channels);

/// Packs `U = G g G^T` of the HWIO kernel `filter` (`[3, 3, fi, fo]`) into `packed`
/// (`ck_winograd_f4_filter_size` floats, 64-byte aligned): for the convolution `fi -> fo`, or with
/// `rotated` for the convolution `fo -> fi` with the kernel rotated by 180 degrees (the input
/// gradient). Writes the convolution's input channels `first ..< first + count` (so ranges of them
/// may be packed on different threads).
void ck_winograd_f4_pack_filter(const float *filter, ptrdiff_t fi, ptrdiff_t fo, int rotated, ptrdiff_t first,
                                ptrdiff_t count, float *packed);

/// The tiles per block the `_part` functions are best called with for this shape.
ptrdiff_t ck_winograd_f4_block_tiles(const ck_winograd_shape *shape);

/// Floats of workspace one `ck_winograd_f4_forward_part` call needs with `block_tiles`.
ptrdiff_t ck_winograd_f4_forward_workspace(const ck_winograd_shape *shape, ptrdiff_t block_tiles);

/// Writes the output tiles `first_tile ..< first_tile + tile_count` of the correlation of `input`
/// with the kernel packed in `packed` (`ck_winograd_f4_pack_filter`), plus `bias`
/// (`out_channels` values, or NULL for none), then `max(_, 0)` when `relu` is non-zero (a NaN
/// stays NaN); `block_tiles` tiles at a time, in `workspace`.
void ck_winograd_f4_forward_part(const float *input, const float *packed, const float *bias, int relu,
                                 float *output, const ck_winograd_shape *shape, ptrdiff_t first_tile,
                                 ptrdiff_t tile_count, ptrdiff_t block_tiles, float *workspace);

/// Floats of one partial filter-gradient sum (`ck_winograd_f4_filter_gradient_part`).
ptrdiff_t ck_winograd_f4_gradient_size(ptrdiff_t in_channels, ptrdiff_t out_channels);

/// The tiles per block `ck_winograd_f4_filter_gradient_part` is best called with for this shape.
ptrdiff_t ck_winograd_f4_gradient_block_tiles(const ck_winograd_shape *shape);

/// Floats of workspace one `ck_winograd_f4_filter_gradient_part` call needs with `block_tiles`.
ptrdiff_t ck_winograd_f4_gradient_workspace(const ck_winograd_shape *shape, ptrdiff_t block_tiles);

/// Adds the transform-domain filter gradient of the tiles `first_tile ..< first_tile + tile_count`
/// to `partial` (`ck_winograd_f4_gradient_size` floats, 64-byte aligned), or with `overwrite`
/// writes it there instead: `input` is the convolution's input, `gradient` the gradient of its output.
void ck_winograd_f4_filter_gradient_part(const float *input, const float *gradient, const ck_winograd_shape *shape,
                                         ptrdiff_t first_tile, ptrdiff_t tile_count, ptrdiff_t block_tiles,
                                         int overwrite, float *partial, float *workspace);

/// Rows `first ..< first + count` (input channels) of the HWIO filter gradient
/// `[3, 3, in_channels, out_channels]` from `parts` partial sums stored one after another
/// (`ck_winograd_f4_gradient_size` floats each): their sum in part order, then `G^T dU G` for
/// every channel pair.
void ck_winograd_f4_gradient_finish(const float *partials, ptrdiff_t parts, ptrdiff_t in_channels,
                                    ptrdiff_t out_channels, ptrdiff_t first, ptrdiff_t count, float *filter_gradient);

#ifdef __cplusplus
}
#endif

#endif
