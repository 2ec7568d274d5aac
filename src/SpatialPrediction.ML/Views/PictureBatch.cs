using static TorchSharp.torch;

namespace SpatialPrediction.ML.Views;

/// <summary>
/// The source pictures of one batch, each at its own size and aspect ratio ([3, H, W]: bytes, or floats in [0, 1], on
/// the CPU), that every view of the batch is cut from. Views are cut from these, not from a copy shrunk to the training
/// size, so each view is resized once, from the most detail the cache keeps.
/// </summary>
internal sealed class PictureBatch : IDisposable
{
    private readonly IReadOnlyList<Tensor> pictures;
    private readonly bool owned;

    /// <summary>Wraps the pictures; they are disposed with the batch when <paramref name="owned"/>.</summary>
    public PictureBatch(IReadOnlyList<Tensor> pictures, bool owned = true)
    {
        foreach (var picture in pictures)
            if (picture.dim() != 3 || picture.shape[0] != 3)
                throw new ArgumentException($"A picture must be [3, H, W]; got [{string.Join(", ", picture.shape)}].", nameof(pictures));
        this.pictures = pictures;
        this.owned = owned;
    }

    /// <summary>The pictures of a batch tensor [B, 3, H, W] (views of it: the tensor must outlive the batch).</summary>
    public static PictureBatch Of(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] != 3)
            throw new ArgumentException($"Expected images of shape [B, 3, H, W]; got [{string.Join(", ", images.shape)}].", nameof(images));
        return new PictureBatch(Enumerable.Range(0, (int)images.shape[0]).Select(i => images[i]).ToList());
    }

    /// <summary>Number of pictures.</summary>
    public int Count => pictures.Count;

    /// <summary>Picture <paramref name="index"/>.</summary>
    public Tensor this[int index] => pictures[index];

    /// <summary>Width in pixels of picture <paramref name="index"/>.</summary>
    public int Width(int index) => (int)pictures[index].shape[2];

    /// <summary>Height in pixels of picture <paramref name="index"/>.</summary>
    public int Height(int index) => (int)pictures[index].shape[1];

    /// <summary>Each picture <paramref name="times"/> times in a row (SP's pairs per image); shares the tensors, owns none.</summary>
    public PictureBatch Repeat(int times)
        => times == 1 ? new PictureBatch(pictures, owned: false)
            : new PictureBatch(pictures.SelectMany(p => Enumerable.Repeat(p, times)).ToList(), owned: false);

    /// <summary>
    /// Every picture whole, as the featuriser sees it by default (the centred square of its shorter side, ML.NET's
    /// <c>IsoCrop</c>), at <paramref name="size"/> px on <paramref name="device"/>: [B, 3, size, size].
    /// </summary>
    public Tensor Whole(int size, Device device)
    {
        var boxes = new ViewBox[Count];
        for (int i = 0; i < Count; i++)
        {
            int width = Width(i), height = Height(i), side = Math.Min(width, height);
            boxes[i] = ViewBox.FromPixels((width - side) / 2, (height - side) / 2, side, side, width, height);
        }
        return ViewCropper.Crop(this, boxes, null, size, device: device);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!owned) return;
        foreach (var picture in pictures) picture.Dispose();
    }
}
