using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Views;

/// <summary>
/// Cuts boxes out of source pictures the way torchvision's random-resized crop does: the box's whole pixels are sliced
/// from the picture and resized once, bilinear and antialiased, to the view's square resolution, then mirrored where
/// asked. Boxes are drawn pixel-aligned (<see cref="RandomResizedCropSampler"/>), so the pixels a model sees are exactly
/// the recorded <see cref="ViewBox"/>.
/// </summary>
internal static class ViewCropper
{
    /// <summary>
    /// Crops <paramref name="boxes"/>[i] from <paramref name="pictures"/>[i] to [B, 3, <paramref name="outputSize"/>,
    /// <paramref name="outputSize"/>] floats in [0, 1] on <paramref name="device"/> (default: the pictures' device),
    /// mirroring crop i when flips[i] is set. With <paramref name="detail"/> &gt; 0 each crop is first reduced to that
    /// side and then enlarged to the output, so every crop carries the same detail whatever its box.
    /// </summary>
    public static Tensor Crop(PictureBatch pictures, IReadOnlyList<ViewBox> boxes, IReadOnlyList<bool>? flips, int outputSize,
        int detail = 0, Device? device = null)
    {
        int batch = pictures.Count;
        if (boxes.Count != batch)
            throw new ArgumentException($"Got {boxes.Count} boxes for a batch of {batch} pictures.", nameof(boxes));
        if (flips is not null && flips.Count != batch)
            throw new ArgumentException($"Got {flips.Count} flip flags for a batch of {batch} pictures.", nameof(flips));
        using var scope = NewDisposeScope();
        var crops = new Tensor[batch];
        for (int i = 0; i < batch; i++)
        {
            var picture = pictures[i];
            var (left, top, width, height) = boxes[i].ToPixels(pictures.Width(i), pictures.Height(i));
            var region = picture.narrow(1, top, height).narrow(2, left, width).unsqueeze(0);
            region = region.dtype == ScalarType.Byte ? region.to_type(ScalarType.Float32).div_(Backbones.ProcessScalars.ByteMax) : region;
            var crop = detail > 0 ? Resize(Resize(region, detail), outputSize) : Resize(region, outputSize);
            crops[i] = flips is not null && flips[i] ? crop.flip(3) : crop;
        }
        var all = batch == 0 ? empty(0, 3, outputSize, outputSize) : cat(crops, 0);
        return (device is null ? all : all.to(device)).MoveToOuterDisposeScope();
    }

    private static Tensor Resize(Tensor region, int size)
        => region.shape[2] == size && region.shape[3] == size ? region
            : nn.functional.interpolate(region, new long[] { size, size }, mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);
}
