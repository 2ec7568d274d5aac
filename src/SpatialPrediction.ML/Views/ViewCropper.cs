using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Views;

/// <summary>
/// Cuts boxes out of a batch of images and resizes them to one square resolution in a single batched
/// <c>grid_sample</c>, optionally mirroring each crop. Because the same call serves every view, the pixels a model
/// sees always correspond exactly to the recorded <see cref="ViewBox"/>.
/// </summary>
internal static class ViewCropper
{
    /// <summary>
    /// Crops <paramref name="boxes"/>[i] from <paramref name="images"/>[i] (shape [B, C, H, W]) to
    /// [B, C, <paramref name="outputSize"/>, <paramref name="outputSize"/>], mirroring crop i when flips[i] is set.
    /// </summary>
    public static Tensor Crop(Tensor images, IReadOnlyList<ViewBox> boxes, IReadOnlyList<bool>? flips, int outputSize)
    {
        long batch = images.shape[0];
        if (boxes.Count != batch)
            throw new ArgumentException($"Got {boxes.Count} boxes for a batch of {batch} images.", nameof(boxes));
        if (flips is not null && flips.Count != batch)
            throw new ArgumentException($"Got {flips.Count} flip flags for a batch of {batch} images.", nameof(flips));

        // affine_grid maps output coordinates in [-1, 1] to input coordinates: x_in = sx * x_out + tx.
        var theta = new float[batch * 6];
        for (int i = 0; i < batch; i++)
        {
            var box = boxes[i];
            float sx = box.Width * (flips is not null && flips[i] ? -1f : 1f);
            theta[i * 6 + 0] = sx;
            theta[i * 6 + 2] = 2f * box.CenterX - 1f;
            theta[i * 6 + 4] = box.Height;
            theta[i * 6 + 5] = 2f * box.CenterY - 1f;
        }
        using var scope = NewDisposeScope();
        var thetaTensor = tensor(theta, new long[] { batch, 2, 3 }, dtype: images.dtype, device: images.device);
        var grid = nn.functional.affine_grid(thetaTensor, new long[] { batch, images.shape[1], outputSize, outputSize }, align_corners: false);
        var crops = nn.functional.grid_sample(images, grid, mode: GridSampleMode.Bilinear,
            padding_mode: GridSamplePaddingMode.Border, align_corners: false);
        return crops.MoveToOuterDisposeScope();
    }
}
